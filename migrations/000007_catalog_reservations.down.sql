DROP TABLE IF EXISTS catalog.reservations;
