package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
)

// plain is a store without optional capabilities.
type plain struct{ store.ConversationStore }

// purging is a store that is a Purger and nothing else optional.
type purging struct {
	store.ConversationStore
	store.Purger
}

// wrapping implements the methods of Purger, Eraser and Exporter on behalf
// of inner, as a wrapper that forwards every capability does.
type wrapping struct {
	store.ConversationStore
	inner store.ConversationStore
}

func (w wrapping) Unwrap() store.ConversationStore { return w.inner }

func (wrapping) Purge(context.Context, store.PurgeQuery) (store.PurgeResult, error) {
	return store.PurgeResult{}, nil
}

func (wrapping) Erase(context.Context, channel.TenantID, store.SubjectID) (store.Erased, error) {
	return store.Erased{}, nil
}

func (wrapping) Export(context.Context, channel.TenantID, store.SubjectID) (store.Export, error) {
	return store.Export{}, nil
}

// eraseNeedsExport is a wrapper that erases only when its inner store can
// export as well.
type eraseNeedsExport struct{ wrapping }

func (w eraseNeedsExport) Provides(capability any) bool {
	if _, ok := capability.(*store.Eraser); ok {
		_, ok := store.Capability[store.Exporter](w.inner)
		return ok
	}
	return true
}

// nilInner wraps nothing.
type nilInner struct{ wrapping }

func (nilInner) Unwrap() store.ConversationStore { return nil }

func TestCapability(t *testing.T) {
	mem := memory.New(nil)
	t.Cleanup(func() { mem.Close() })
	type has struct{ purger, eraser, exporter, leaser bool }
	probe := func(s store.ConversationStore) has {
		_, p := store.Capability[store.Purger](s)
		_, e := store.Capability[store.Eraser](s)
		_, x := store.Capability[store.Exporter](s)
		_, l := store.Capability[store.Leaser](s)
		return has{p, e, x, l}
	}
	tests := []struct {
		name string
		s    store.ConversationStore
		want has
	}{
		{"a store that is not a wrapper: the type assertion", mem, has{true, true, true, true}},
		{"a store without capabilities", plain{mem}, has{}},
		{"a wrapper around a store with every capability", wrapping{mem, mem}, has{true, true, true, false}},
		{"a wrapper around a store lacking them reports none", wrapping{mem, plain{mem}}, has{}},
		{"a wrapper reports only what its inner store can do", wrapping{mem, purging{mem, mem}}, has{purger: true}},
		{"two levels: the innermost store decides", wrapping{mem, wrapping{mem, purging{mem, mem}}}, has{purger: true}},
		{"two levels: the outer wrapper's own methods still bound", wrapping{mem, wrapping{mem, mem}}, has{true, true, true, false}},
		{"two levels around a store without capabilities", wrapping{mem, wrapping{mem, plain{mem}}}, has{}},
		{"a partial wrapper refines what its inner store has", eraseNeedsExport{wrapping{mem, struct {
			store.ConversationStore
			store.Purger
			store.Eraser
		}{mem, mem, mem}}}, has{purger: true}},
		{"a partial wrapper over a store that has what it needs", eraseNeedsExport{wrapping{mem, mem}}, has{true, true, true, false}},
		{"a wrapper around nothing has nothing", nilInner{wrapping{mem, mem}}, has{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, probe(tt.s))
		})
	}
}

func TestCapabilityReturnsTheOuterStore(t *testing.T) {
	mem := memory.New(nil)
	t.Cleanup(func() { mem.Close() })
	w := wrapping{plain{mem}, mem}
	p, ok := store.Capability[store.Purger](w)
	assert.True(t, ok)
	assert.IsType(t, wrapping{}, p, "Capability returns the wrapper, whose methods forward, not the inner store")
	p, ok = store.Capability[store.Purger](plain{mem})
	assert.False(t, ok)
	assert.Nil(t, p, "without the capability Capability returns the zero value")
}

func ExampleCapability() {
	var s store.ConversationStore = memory.New(nil)
	if _, ok := store.Capability[store.Eraser](s); ok {
		fmt.Println("erasure requests can be served")
	}
	if _, ok := store.Capability[store.Eraser](plain{s}); !ok {
		fmt.Println("this one cannot erase")
	}
	// Output:
	// erasure requests can be served
	// this one cannot erase
}
