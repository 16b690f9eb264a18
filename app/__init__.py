"""The application layer: the command service every entry point calls, its typed errors, tokens,
rounds and their announcements, the reminder schedule, and the composition root that builds them
once per process."""
