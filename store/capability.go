package store

// Wrapper is implemented by a store that wraps another and forwards to it:
// a store that encrypts records on their way in (store/sealed), one that
// counts or logs calls. A wrapper implements the methods of every optional
// capability on its inner store's behalf, and [Capability] finds through
// Unwrap which of them it can really provide.
type Wrapper interface {
	// Unwrap returns the store that this one wraps.
	Unwrap() ConversationStore
}

// PartialWrapper is a [Wrapper] that can provide some capability only when
// its inner store has more than that same capability: store/sealed erases a
// subject only when its inner store is both an [Eraser] and an [Exporter],
// because destroying the subject's key needs what an export tells.
type PartialWrapper interface {
	Wrapper
	// Provides reports whether the wrapper can provide the capability that
	// capability points to, a nil pointer to an interface type such as
	// (*store.Eraser)(nil), given that its inner store has that capability.
	Provides(capability any) bool
}

// Capability returns s as the optional capability T ([Purger], [Eraser],
// [Exporter], [Leaser], [ConversationLister], [TicketSystem],
// [TicketPurger], [Tagger], or
// one a host defines) and reports whether s has it. It works like a type
// assertion s.(T), and like [errors.As] it looks through wrappers: when s
// is a [Wrapper], its inner store must have T too, recursively, and a
// [PartialWrapper] must also say that it Provides T. A wrapper that
// implements every capability's methods is so found to have exactly the
// capabilities of the stores it wraps.
//
// Discover capabilities with Capability rather than with a type assertion,
// which would take a wrapper's methods at their word:
//
//	if e, ok := store.Capability[store.Eraser](s); ok {
//		receipt, err := e.Erase(ctx, tenant, subject)
//		...
//	}
//
// Capability is safe for concurrent use when the Unwrap and Provides
// methods of the wrappers are.
func Capability[T any](s ConversationStore) (T, bool) {
	var zero T
	c, ok := s.(T)
	if !ok {
		return zero, false
	}
	w, ok := s.(Wrapper)
	if !ok {
		return c, true
	}
	inner := w.Unwrap()
	if inner == nil {
		return zero, false
	}
	if _, ok := Capability[T](inner); !ok {
		return zero, false
	}
	if p, ok := s.(PartialWrapper); ok && !p.Provides((*T)(nil)) {
		return zero, false
	}
	return c, true
}
