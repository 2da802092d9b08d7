-- Version 3: listing conversations (store.ConversationLister), most recent
-- activity first. The activity of a conversation is the latest of
-- created_at, last_inbound_at and handoff_since (GREATEST ignores NULLs),
-- written exactly as the queries write it.

-- The queue of a console: a tenant's conversations by owner.
CREATE INDEX conversations_activity_idx ON wagent.conversations
	(tenant, handoff_owner, GREATEST(created_at, last_inbound_at, handoff_since) DESC, id DESC);
-- The idle sweep, across tenants: the few conversations a human owns.
CREATE INDEX conversations_human_activity_idx ON wagent.conversations
	(GREATEST(created_at, last_inbound_at, handoff_since)) WHERE handoff_owner = 1;
