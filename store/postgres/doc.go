// Package postgres is a [store.ConversationStore] kept in PostgreSQL, for
// deployments where several instances of an application share one
// database.
//
// # Erased data on disk
//
// Erasures and purges delete or rewrite rows in one transaction: the data
// is gone for every query once the call returns. PostgreSQL keeps the old
// row versions' bytes in the table and index files until the space is
// reused; [Store.Vacuum] with full rewrites the tables so that none
// remain. The server's write-ahead log and backups age out by their own
// settings.
package postgres
