// Package postgres is a [store.ConversationStore] kept in PostgreSQL, for
// deployments where several instances of an application share one
// database.
package postgres
