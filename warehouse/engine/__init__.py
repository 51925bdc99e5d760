"""The narrow engine: backends chosen by URL (chDB, a server, the socket to an owning process),
bound parameters, migrations and cluster layout. No product query lives here."""
