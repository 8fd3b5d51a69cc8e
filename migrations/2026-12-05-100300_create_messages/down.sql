DROP TABLE messages;
DROP TABLE message_participants;
DROP TABLE message_threads;
