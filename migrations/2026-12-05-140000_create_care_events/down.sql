DROP TRIGGER care_events_announce ON care_events;
DROP FUNCTION care_events_announce();
DROP TABLE care_events;
