package cards

import (
	"encoding/json"
	"fmt"
)

func (b *Book) fields() []field {
	return []field{
		{"name", &b.Name, false},
		{"description", &b.Description, false},
		{"scan_depth", &b.ScanDepth, false},
		{"token_budget", &b.TokenBudget, false},
		{"recursive_scanning", &b.RecursiveScanning, false},
		{"extensions", &b.Extensions, true},
		{"entries", &b.Entries, true},
	}
}

// UnmarshalJSON reads a lorebook, keeping keys no spec names in Unknown. It fails only
// when the value is not an object; the card then keeps the whole book raw.
func (b *Book) UnmarshalJSON(data []byte) error {
	o, err := decodeObject(data)
	if err != nil {
		return err
	}
	*b = Book{}
	o.take(b.fields())
	b.Unknown = o.rest()
	return nil
}

// MarshalJSON writes the lorebook in spec order, then its unknown keys.
func (b Book) MarshalJSON() ([]byte, error) {
	w := newObjWriter()
	w.fields(b.fields(), b.Unknown)
	w.unknown(b.Unknown)
	return w.bytes()
}

func (e *BookEntry) fields() []field {
	return []field{
		{"keys", &e.Keys, true},
		{"content", &e.Content, true},
		{"extensions", &e.Extensions, true},
		{"enabled", &e.Enabled, false},
		{"insertion_order", &e.InsertionOrder, false},
		{"case_sensitive", &e.CaseSensitive, false},
		{"use_regex", &e.UseRegex, false},
		{"constant", &e.Constant, false},
		{"name", &e.Name, false},
		{"priority", &e.Priority, false},
		{"id", &e.ID, false},
		{"comment", &e.Comment, false},
		{"selective", &e.Selective, false},
		{"secondary_keys", &e.SecondaryKeys, false},
		{"position", &e.Position, false},
	}
}

// UnmarshalJSON reads one entry, keeping unknown keys.
func (e *BookEntry) UnmarshalJSON(data []byte) error {
	o, err := decodeObject(data)
	if err != nil {
		return err
	}
	*e = BookEntry{}
	o.take(e.fields())
	e.Unknown = o.rest()
	return nil
}

// MarshalJSON writes the entry in spec order, then its unknown keys.
func (e BookEntry) MarshalJSON() ([]byte, error) {
	w := newObjWriter()
	w.fields(e.fields(), e.Unknown)
	w.unknown(e.Unknown)
	return w.bytes()
}

func (a *Asset) fields() []field {
	return []field{
		{"type", &a.Type, true},
		{"uri", &a.URI, true},
		{"name", &a.Name, true},
		{"ext", &a.Ext, true},
	}
}

// UnmarshalJSON reads one asset, keeping unknown keys.
func (a *Asset) UnmarshalJSON(data []byte) error {
	o, err := decodeObject(data)
	if err != nil {
		return err
	}
	*a = Asset{}
	o.take(a.fields())
	a.Unknown = o.rest()
	return nil
}

// MarshalJSON writes the asset's four keys, then its unknown keys.
func (a Asset) MarshalJSON() ([]byte, error) {
	w := newObjWriter()
	w.fields(a.fields(), a.Unknown)
	w.unknown(a.Unknown)
	return w.bytes()
}

// checkText walks every text field of the book and reports the first that is too long.
func (b *Book) checkText(check func(name, value string) error) error {
	if err := check("character_book name", b.Name); err != nil {
		return err
	}
	if err := check("character_book description", b.Description); err != nil {
		return err
	}
	for i, e := range b.Entries {
		n := fmt.Sprintf("character_book entry #%d", i+1)
		for _, f := range []struct{ name, v string }{{"content", e.Content}, {"name", e.Name}, {"comment", e.Comment}} {
			if err := check(n+" "+f.name, f.v); err != nil {
				return err
			}
		}
		for _, k := range append(append([]string{}, e.Keys...), e.SecondaryKeys...) {
			if err := check(n+" key", k); err != nil {
				return err
			}
		}
	}
	return nil
}

var _ json.Marshaler = Book{}
