DROP TABLE IF EXISTS platform.secrets;
