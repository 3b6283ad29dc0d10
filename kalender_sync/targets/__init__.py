"""Where planned events go. Calendar targets (files, CalDAV, memory, ...) implement one small
interface (base.CalendarTarget) and are chosen by the registry; the feed and e-mail are
publishers (publish.Publisher): one-way channels that read nothing back."""
