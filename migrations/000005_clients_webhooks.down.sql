DROP TABLE IF EXISTS clients.delivery_attempts;
DROP TABLE IF EXISTS clients.deliveries;
DROP TABLE IF EXISTS clients.events;
ALTER TABLE clients.webhooks DROP COLUMN IF EXISTS secret_rotated_at, DROP COLUMN IF EXISTS deleted_at;
