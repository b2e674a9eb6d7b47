"""The dashboard's shared parts: the data door, filters, charts, downloads and page furniture."""
