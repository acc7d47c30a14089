#!/bin/sh
# Creates Daogou's two databases on the first start of the postgres container (the official
# image runs /docker-entrypoint-initdb.d/*.sh once, on an empty data directory):
#   DAOGOU_DB          catalog, events, accounts, audit, the review index (DATABASE_URL)
#   DAOGOU_TRACKER_DB  Rasa's tracker store (TRACKER_DB_URL)
# Two databases because Rasa's tracker store and Rasa's SQL event broker both make a table
# named `events`, and so does the catalog: one schema cannot hold them all.
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE DATABASE "${DAOGOU_DB:-daogou}" OWNER "$POSTGRES_USER" ENCODING 'UTF8' TEMPLATE template0;
CREATE DATABASE "${DAOGOU_TRACKER_DB:-daogou_tracker}" OWNER "$POSTGRES_USER" ENCODING 'UTF8' TEMPLATE template0;
SQL
