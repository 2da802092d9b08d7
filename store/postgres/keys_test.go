package postgres_test

import (
	"testing"

	"github.com/wagent/wagent/privacy/seal"
	"github.com/wagent/wagent/privacy/seal/sealtest"
)

func TestKeys(t *testing.T) {
	sealtest.RunKeyStorage(t, func(t *testing.T) seal.KeyStorage { return fresh(t).Keys() })
}

func TestKeysShared(t *testing.T) {
	// Two instances on one schema see one key.
	schema := freshSchema(t)
	a, b := open(t, schema, nil).Keys(), open(t, schema, nil).Keys()
	got, err := a.Put(t.Context(), "tienda-sol", "idx", []byte("first"), nil)
	if err != nil || string(got) != "first" {
		t.Fatalf("Put: got %q, %v; want the key created", got, err)
	}
	got, err = b.Put(t.Context(), "tienda-sol", "idx", []byte("second"), nil)
	if err != nil || string(got) != "first" {
		t.Fatalf("Put on another instance: got %q, %v; want the key already stored", got, err)
	}
}
