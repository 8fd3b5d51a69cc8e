DROP TABLE care_task_history;
DROP TABLE care_tasks;
DROP TABLE care_alerts;
DROP TABLE protocol_firings;
DROP TABLE protocol_settings;
