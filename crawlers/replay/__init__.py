"""The local replay portal (saved pages served on 127.0.0.1) and the demo's week of days."""
