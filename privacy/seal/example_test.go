package seal_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/wagent/wagent/privacy/seal"
)

func Example() {
	// In production the secrets come from a secret manager.
	ring, err := seal.NewKeyring(seal.KeyringConfig{
		Keys:        []seal.Key{{ID: "2026-01", Secret: seal.NewSecret()}},
		Primary:     "2026-01",
		IndexSecret: seal.NewSecret(),
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	keys, err := seal.NewDataKeys(ring, &seal.MemoryKeyStorage{}, nil)
	if err != nil {
		log.Fatal(err)
	}

	// A subject's data key, stored under the blind index of their number.
	id := ring.Index("tienda-sol", "whatsapp", "51900000001")
	key, err := keys.Ensure(ctx, "tienda-sol", id, "51900000001")
	if err != nil {
		log.Fatal(err)
	}
	at := seal.Binding{Tenant: "tienda-sol", Field: "message.text", Row: "wamid.1"}
	envelope := key.Seal([]byte("¿Tienen la chompa en talla M?"), at)

	text, err := key.Open(envelope, at)
	fmt.Println(string(text), err)
	_, err = key.Open(envelope, seal.Binding{Tenant: "tienda-sol", Field: "message.text", Row: "wamid.2"})
	fmt.Println(errors.Is(err, seal.ErrTampered))

	// Erasing the subject: the key goes, and every copy of the envelope
	// with it.
	if err := keys.Destroy(ctx, "tienda-sol", id); err != nil {
		log.Fatal(err)
	}
	_, err = keys.Key(ctx, "tienda-sol", id)
	fmt.Println(errors.Is(err, seal.ErrNoDataKey))
	// Output:
	// ¿Tienen la chompa en talla M? <nil>
	// true
	// true
}

func ExampleKeyring_rotation() {
	old := seal.Key{ID: "2026-01", Secret: seal.NewSecret()}
	index := seal.NewSecret()
	before, err := seal.NewKeyring(seal.KeyringConfig{Keys: []seal.Key{old}, Primary: old.ID, IndexSecret: index})
	if err != nil {
		log.Fatal(err)
	}
	at := seal.Binding{Tenant: "tienda-sol", Field: "note"}
	sealed := before.Seal([]byte("antes"), at)

	// A new primary; the old key stays to open what it sealed.
	after, err := seal.NewKeyring(seal.KeyringConfig{
		Keys:        []seal.Key{old, {ID: "2026-06", Secret: seal.NewSecret()}},
		Primary:     "2026-06",
		IndexSecret: index,
	})
	if err != nil {
		log.Fatal(err)
	}
	pt, err := after.Open(sealed, at)
	fmt.Println(string(pt), err)
	id, _ := after.KeyOf(after.Seal([]byte("después"), at))
	fmt.Println(id)
	fmt.Println(before.Index("t", "whatsapp", "51900000001") == after.Index("t", "whatsapp", "51900000001"))
	// Output:
	// antes <nil>
	// 2026-06
	// true
}
