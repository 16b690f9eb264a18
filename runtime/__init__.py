"""Platform code every process shares: settings, logging, the embedded servers, the Temporal connection,
opening the store, and process handling. Knows nothing of HTTP, the CLI or the programme's rules."""
