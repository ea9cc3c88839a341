-- event_identifiers becomes an index of Custody's own events only:
-- request.* and access.* (event.Type.Internal). Those are the only events
-- read through it (eventlog's InternalByIdentifiers and InternalByHashes:
-- a rights request's events by its request identifier, a person's requests
-- and recorded reads by their identifiers). A person's ordinary events are
-- read by subject key from events (Log.ByPerson) after the identity walk,
-- never through this table. Writing a row per identifier of every event
-- cost about 130 ms of engine time per 100,000 events inserted (about 15%
-- of the engine's insert work), and more in event_identifiers' merges.
--
-- The view's query is changed in place, without interrupting ingestion;
-- running it again changes nothing. Rows the view wrote for other events
-- before this migration stay in event_identifiers but are never read: the
-- queries over it keep only events of internal types.
ALTER TABLE event_identifiers_mv{{.OnCluster}} MODIFY QUERY
SELECT tenant, identifier_hash, identifier_kind, occurred_at, event_id, subject_key
FROM events
ARRAY JOIN identifier_hashes AS identifier_hash, identifier_kinds AS identifier_kind
WHERE startsWith(type, 'request.') OR startsWith(type, 'access.');
