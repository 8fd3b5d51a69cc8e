DROP TABLE screening_assignments;
