// Package testfill fills values by reflection for tests of deep copies: a
// field added to a record type later, and forgotten by its Clone method,
// makes those tests fail.
package testfill
