"""kalender-sync: networking agreements as events in people's own calendars."""
__version__ = "0.1.0"
