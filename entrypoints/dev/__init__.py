"""`citycert dev`: the whole system in one process tree, with a demo cohort."""
