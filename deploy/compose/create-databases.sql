-- Run once by the postgres image on an empty data volume (docker-entrypoint-initdb.d):
-- one database per service. Each service applies its own migrations when it starts.
CREATE DATABASE ticket_service;
CREATE DATABASE payment_service;
CREATE DATABASE notification_gateway;
