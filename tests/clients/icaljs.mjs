// Mozilla's ical.js (Thunderbird, Nextcloud and many web clients) reading .ics texts.
//
// stdin:  JSON [{"name": ..., "text": ...}, ...]
// stdout: JSON [{"name": ..., "events": [{uid, recurrence_id, start, end, all_day, alarms}], "error"}]
// Timed values are UTC instants ("2027-02-01T08:00:00Z"), all-day values dates ("2027-02-01").
// Each text is resolved only against its own VTIMEZONEs (Component.getTimeZoneByID), as a
// client that imports or subscribes to that one file does: nothing is registered globally.
import ICAL from "ical.js";

function instant(time) {
  if (time.isDate) return time.toString();
  return new Date(time.toUnixTime() * 1000).toISOString().replace(".000Z", "Z");
}

function alarms(event, vevent) {
  const found = [];
  for (const valarm of vevent.getAllSubcomponents("valarm")) {
    const trigger = valarm.getFirstProperty("trigger");
    if (!trigger) continue;
    const value = trigger.getFirstValue();
    if (value instanceof ICAL.Duration) {
      const related = trigger.getParameter("related") === "END" ? event.endDate : event.startDate;
      const at = related.clone();
      at.addDuration(value);
      found.push(instant(at));
    } else {
      found.push(instant(value));
    }
  }
  return found;
}

function read(text) {
  const root = new ICAL.Component(ICAL.parse(text));
  const calendars = root.name === "vcalendar" ? [root] : root.getAllSubcomponents("vcalendar");
  const events = [];
  for (const calendar of calendars) {
    for (const vevent of calendar.getAllSubcomponents("vevent")) {
      const event = new ICAL.Event(vevent);
      events.push({
        uid: event.uid,
        recurrence_id: event.recurrenceId ? instant(event.recurrenceId) : null,
        start: instant(event.startDate),
        end: instant(event.endDate),
        all_day: event.startDate.isDate,
        alarms: alarms(event, vevent),
      });
    }
  }
  return events;
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const out = JSON.parse(Buffer.concat(chunks).toString("utf-8")).map(({ name, text }) => {
  try {
    return { name, events: read(text), error: null };
  } catch (error) {
    return { name, events: [], error: String(error && error.stack || error) };
  }
});
process.stdout.write(JSON.stringify(out));
