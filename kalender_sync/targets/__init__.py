"""Adapters that put planned events somewhere: .ics files now; CalDAV, feeds and mail next."""
