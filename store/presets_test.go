package store_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tzurot/tzurot/activities/preset"
	"github.com/tzurot/tzurot/store"
)

func presetUser(t *testing.T, discordID string) store.User {
	t.Helper()
	u, err := db.Store.Users.Ensure(context.Background(), discordID, discordID, discordID)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustPreset(t *testing.T, p store.Preset) store.Preset {
	t.Helper()
	out, err := db.Store.Presets.Create(context.Background(), p)
	if err != nil {
		t.Fatalf("create %q: %v", p.Name, err)
	}
	return out
}

func wantFieldError(t *testing.T, err error, field string) {
	t.Helper()
	var fe *preset.FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("err = %v, want a *preset.FieldError for %s", err, field)
	}
}

func TestPresetCreateRoundTripsParameters(t *testing.T) {
	ctx := context.Background()
	u := presetUser(t, "preset-roundtrip")
	params := preset.Values{
		"temperature": 0.7, "top_k": 40, "seed": 1<<53 - 1, "stop": []string{"\n\nUser:", "a, b"},
		"reasoning_effort": "low", "max_images": 0, "top_p": nil, "memory_score_threshold": 0.55,
	}
	p := mustPreset(t, store.Preset{Name: "  Round Trip ", OwnerID: u.ID, Model: "m/one", Parameters: params})
	if p.ID == "" || p.Name != "Round Trip" || p.OwnerID != u.ID || p.Provider != store.DefaultProvider || p.IsGlobal() {
		t.Fatalf("created %+v", p)
	}
	got, err := db.Store.Presets.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := preset.Normalize(params)
	if got.Model != "m/one" || !reflect.DeepEqual(got.Parameters, want) {
		t.Fatalf("read back %+v\nwant parameters %#v", got, want)
	}
	v := got.Values()
	if v["model"] != "m/one" || v["temperature"] != 0.7 {
		t.Errorf("Values() = %v", v)
	}
	if x, ok := v["top_p"]; !ok || x != nil {
		t.Errorf("Values() lost the explicit null of top_p: %v", v)
	}
	// A model among the parameters moves to its column; JSON-typed numbers are normalized.
	moved := mustPreset(t, store.Preset{Name: "moved", OwnerID: u.ID, Parameters: preset.Values{"model": "m/two", "max_tokens": 100.0}})
	if moved.Model != "m/two" || moved.Parameters["model"] != nil || moved.Parameters["max_tokens"] != 100 {
		t.Errorf("model not moved to its column: %+v", moved)
	}
}

func TestPresetCreateRejects(t *testing.T) {
	ctx := context.Background()
	u := presetUser(t, "preset-rejects")
	mustPreset(t, store.Preset{Name: "Taken", OwnerID: u.ID, Model: "m"})
	tests := map[string]struct {
		p     store.Preset
		field string
	}{
		"no model":      {store.Preset{Name: "a", OwnerID: u.ID}, "model"},
		"model spaces":  {store.Preset{Name: "b", OwnerID: u.ID, Model: "two words"}, "model"},
		"empty name":    {store.Preset{Name: "  ", OwnerID: u.ID, Model: "m"}, "name"},
		"long name":     {store.Preset{Name: strings.Repeat("n", preset.MaxNameLen+1), OwnerID: u.ID, Model: "m"}, "name"},
		"newline name":  {store.Preset{Name: "a\nb", OwnerID: u.ID, Model: "m"}, "name"},
		"out of range":  {store.Preset{Name: "c", OwnerID: u.ID, Model: "m", Parameters: preset.Values{"temperature": 3.5}}, "temperature"},
		"unknown field": {store.Preset{Name: "d", OwnerID: u.ID, Model: "m", Parameters: preset.Values{"temprature": 1.0}}, "temprature"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := db.Store.Presets.Create(ctx, tc.p)
			wantFieldError(t, err, tc.field)
		})
	}
	if _, err := db.Store.Presets.Create(ctx, store.Preset{Name: "TAKEN", OwnerID: u.ID, Model: "m"}); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("same name in another case: %v, want ErrDuplicate", err)
	}
	// The same name is free in another scope: another user's, and the global one.
	other := presetUser(t, "preset-rejects-other")
	mustPreset(t, store.Preset{Name: "taken", OwnerID: other.ID, Model: "m"})
	mustPreset(t, store.Preset{Name: "Taken", Model: "m"})
	if _, err := db.Store.Presets.Create(ctx, store.Preset{Name: "taken", Model: "m"}); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("duplicate global name: %v", err)
	}
}

func TestPresetLookups(t *testing.T) {
	ctx := context.Background()
	u := presetUser(t, "preset-lookups")
	other := presetUser(t, "preset-lookups-other")
	mine := mustPreset(t, store.Preset{Name: "Shadowed", OwnerID: u.ID, Model: "mine"})
	global := mustPreset(t, store.Preset{Name: "shadowed", Model: "global"})
	onlyGlobal := mustPreset(t, store.Preset{Name: "lookup-global-only", Model: "g"})
	secret := mustPreset(t, store.Preset{Name: "lookup-secret", OwnerID: other.ID, Model: "s"})

	for _, tc := range []struct {
		owner, name, wantID string
	}{
		{u.ID, "SHADOWED", mine.ID},
		{"", "shadowed", global.ID},
		{other.ID, "Shadowed", global.ID},
		{u.ID, " lookup-global-only ", onlyGlobal.ID},
	} {
		p, err := db.Store.Presets.ByName(ctx, tc.owner, tc.name)
		if err != nil || p.ID != tc.wantID {
			t.Errorf("ByName(%q, %q) = %s, %v; want %s", tc.owner, tc.name, p.ID, err, tc.wantID)
		}
	}
	if _, err := db.Store.Presets.ByName(ctx, u.ID, "lookup-secret"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another user's preset by name: %v", err)
	}
	// Resolve takes an id (autocomplete) or a name, and only what the user may see.
	if p, err := db.Store.Presets.Resolve(ctx, u.ID, global.ID); err != nil || p.ID != global.ID {
		t.Errorf("Resolve(global id) = %+v, %v", p, err)
	}
	if p, err := db.Store.Presets.Resolve(ctx, u.ID, "shadowed"); err != nil || p.ID != mine.ID {
		t.Errorf("Resolve(name) = %+v, %v", p, err)
	}
	if _, err := db.Store.Presets.Resolve(ctx, u.ID, secret.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Resolve(another user's id): %v", err)
	}
	for _, id := range []string{"", "nope", "00000000-0000-0000-0000-000000000000"} {
		if _, err := db.Store.Presets.Get(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", id, err)
		}
	}

	list, err := db.Store.Presets.List(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	seenGlobal := false
	for i, p := range list {
		if p.OwnerID != "" && p.OwnerID != u.ID {
			t.Errorf("List shows another user's preset %q", p.Name)
		}
		if p.IsGlobal() {
			seenGlobal = true
		} else if seenGlobal {
			t.Errorf("own preset %q listed after a global one (position %d)", p.Name, i)
		}
	}
	if len(list) == 0 || list[0].ID != mine.ID || !seenGlobal {
		t.Errorf("List = %+v", list)
	}
}

func TestPresetUpdateIsScopedToItsOwner(t *testing.T) {
	ctx := context.Background()
	u := presetUser(t, "preset-update")
	other := presetUser(t, "preset-update-other")
	p := mustPreset(t, store.Preset{Name: "editable", OwnerID: u.ID, Model: "m", Parameters: preset.Values{"temperature": 0.5, "top_k": 3}})
	mustPreset(t, store.Preset{Name: "other-name", OwnerID: u.ID, Model: "m"})

	p.Name, p.Model, p.Parameters = "edited", "m2", preset.Values{"top_p": 0.9}
	got, err := db.Store.Presets.Update(ctx, p)
	if err != nil || got.Name != "edited" || got.Model != "m2" || !reflect.DeepEqual(got.Parameters, preset.Values{"top_p": 0.9}) {
		t.Fatalf("Update = %+v, %v", got, err)
	}
	stolen := got
	stolen.OwnerID, stolen.Name = other.ID, "stolen"
	if _, err := db.Store.Presets.Update(ctx, stolen); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update by another owner: %v", err)
	}
	asGlobal := got
	asGlobal.OwnerID = ""
	if _, err := db.Store.Presets.Update(ctx, asGlobal); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a user's preset updated as a global one: %v", err)
	}
	got.Name = "OTHER-NAME"
	if _, err := db.Store.Presets.Update(ctx, got); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("rename onto another preset: %v", err)
	}
	got.Name, got.Parameters = "edited", preset.Values{"temperature": 9.0}
	_, err = db.Store.Presets.Update(ctx, got)
	wantFieldError(t, err, "temperature")

	g := mustPreset(t, store.Preset{Name: "global-editable", Model: "m"})
	g.Model = "g2"
	if got, err := db.Store.Presets.Update(ctx, g); err != nil || got.Model != "g2" || !got.IsGlobal() {
		t.Errorf("global update = %+v, %v", got, err)
	}
}

func TestPresetDelete(t *testing.T) {
	ctx := context.Background()
	u := presetUser(t, "preset-delete")
	other := presetUser(t, "preset-delete-other")
	lil := lilith(t, "lilith-preset-delete")
	p := mustPreset(t, store.Preset{Name: "doomed", OwnerID: u.ID, Model: "m"})
	if err := db.Store.Presets.SetUserDefault(ctx, u.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.Store.Presets.SetOverride(ctx, u.ID, lil.ID, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.Store.Presets.Delete(ctx, p.ID, other.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete by another user: %v", err)
	}
	if err := db.Store.Presets.Delete(ctx, p.ID, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a user's preset deleted as a global one: %v", err)
	}
	if err := db.Store.Presets.Delete(ctx, p.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Store.Presets.Get(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted preset still there: %v", err)
	}
	if _, err := db.Store.Presets.UserDefault(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("user default survived its preset: %v", err)
	}
	if _, err := db.Store.Presets.Override(ctx, u.ID, lil.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("override survived its preset: %v", err)
	}
	if err := db.Store.Presets.Delete(ctx, p.ID, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}

	for _, set := range []func(context.Context, string) error{db.Store.Presets.SetGlobalDefault, db.Store.Presets.SetFreeDefault} {
		g := mustPreset(t, store.Preset{Name: "undeletable-" + p.ID[:8], Model: "m"})
		if err := set(ctx, g.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.Store.Presets.Delete(ctx, g.ID, ""); !errors.Is(err, store.ErrPresetIsDefault) {
			t.Errorf("deleting a default: %v, want ErrPresetIsDefault", err)
		}
		if _, err := db.Store.Presets.Get(ctx, g.ID); err != nil {
			t.Errorf("the default is gone: %v", err)
		}
		// Another default takes its place; then it can go.
		repl := mustPreset(t, store.Preset{Name: "replacement-" + g.ID[:8], Model: "m"})
		if err := set(ctx, repl.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.Store.Presets.Delete(ctx, g.ID, ""); err != nil {
			t.Errorf("delete a former default: %v", err)
		}
	}
}

func TestPresetDefaultsAreExclusiveAndGlobal(t *testing.T) {
	ctx := context.Background()
	u := presetUser(t, "preset-defaults")
	a := mustPreset(t, store.Preset{Name: "default-a", Model: "a"})
	b := mustPreset(t, store.Preset{Name: "default-b", Model: "b"})
	private := mustPreset(t, store.Preset{Name: "default-private", OwnerID: u.ID, Model: "p"})
	flags := func() (global, free []string) {
		list, err := db.Store.Presets.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range list {
			if p.IsGlobalDefault {
				global = append(global, p.Name)
			}
			if p.IsFreeDefault {
				free = append(free, p.Name)
			}
		}
		return global, free
	}
	steps := []struct {
		set       func(context.Context, string) error
		id        string
		global    string
		free      string // "?": whatever an earlier test left
		wantErrIs error
	}{
		{db.Store.Presets.SetGlobalDefault, a.ID, "default-a", "?", nil},
		{db.Store.Presets.SetFreeDefault, a.ID, "default-a", "default-a", nil},
		{db.Store.Presets.SetGlobalDefault, b.ID, "default-b", "default-a", nil},
		{db.Store.Presets.SetFreeDefault, b.ID, "default-b", "default-b", nil},
		{db.Store.Presets.SetGlobalDefault, private.ID, "default-b", "default-b", store.ErrNotGlobal},
		{db.Store.Presets.SetFreeDefault, private.ID, "default-b", "default-b", store.ErrNotGlobal},
		{db.Store.Presets.SetFreeDefault, "00000000-0000-0000-0000-000000000001", "default-b", "default-b", store.ErrNotFound},
		{db.Store.Presets.SetGlobalDefault, "junk", "default-b", "default-b", store.ErrNotFound},
	}
	for i, st := range steps {
		err := st.set(ctx, st.id)
		if !errors.Is(err, st.wantErrIs) || (st.wantErrIs == nil && err != nil) {
			t.Fatalf("step %d: %v, want %v", i, err, st.wantErrIs)
		}
		global, free := flags()
		if !reflect.DeepEqual(global, []string{st.global}) || (st.free != "?" && !reflect.DeepEqual(free, []string{st.free})) {
			t.Fatalf("step %d: global defaults %v, free defaults %v; want %s and %s", i, global, free, st.global, st.free)
		}
	}
	// The flag never lands on a user's preset, even written around the repository.
	if _, err := db.Store.Pool.Exec(ctx, `UPDATE llm_configs SET is_free_default = true WHERE id = $1`, private.ID); err == nil {
		t.Error("the schema let a private preset be the free default")
	}
}

func TestPresetUserDefaultAndOverride(t *testing.T) {
	ctx := context.Background()
	u := presetUser(t, "preset-choices")
	other := presetUser(t, "preset-choices-other")
	lil := lilith(t, "lilith-preset-choices")
	mine := mustPreset(t, store.Preset{Name: "choice-mine", OwnerID: u.ID, Model: "m"})
	global := mustPreset(t, store.Preset{Name: "choice-global", Model: "g"})
	theirs := mustPreset(t, store.Preset{Name: "choice-theirs", OwnerID: other.ID, Model: "t"})

	if _, err := db.Store.Presets.UserDefault(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("fresh user has a default: %v", err)
	}
	for _, id := range []string{mine.ID, global.ID} {
		if err := db.Store.Presets.SetUserDefault(ctx, u.ID, id); err != nil {
			t.Fatal(err)
		}
		if p, err := db.Store.Presets.UserDefault(ctx, u.ID); err != nil || p.ID != id {
			t.Fatalf("UserDefault = %+v, %v; want %s", p, err, id)
		}
	}
	if err := db.Store.Presets.SetUserDefault(ctx, u.ID, theirs.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("default to another user's preset: %v", err)
	}
	if was, err := db.Store.Presets.ClearUserDefault(ctx, u.ID); err != nil || !was {
		t.Errorf("ClearUserDefault = %v, %v", was, err)
	}
	if was, err := db.Store.Presets.ClearUserDefault(ctx, u.ID); err != nil || was {
		t.Errorf("second ClearUserDefault = %v, %v", was, err)
	}

	if err := db.Store.Presets.SetOverride(ctx, u.ID, lil.ID, mine.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.Store.Presets.SetOverride(ctx, u.ID, lil.ID, global.ID); err != nil {
		t.Fatal(err)
	}
	if p, err := db.Store.Presets.Override(ctx, u.ID, lil.ID); err != nil || p.ID != global.ID {
		t.Fatalf("Override = %+v, %v", p, err)
	}
	if err := db.Store.Presets.SetOverride(ctx, u.ID, lil.ID, theirs.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("override with another user's preset: %v", err)
	}
	if err := db.Store.Presets.SetOverride(ctx, u.ID, "00000000-0000-0000-0000-000000000002", mine.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("override for a missing character: %v", err)
	}
	if was, err := db.Store.Presets.ClearOverride(ctx, u.ID, lil.ID); err != nil || !was {
		t.Errorf("ClearOverride = %v, %v", was, err)
	}
	if _, err := db.Store.Presets.Override(ctx, u.ID, lil.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("override survived ClearOverride: %v", err)
	}
	if was, err := db.Store.Presets.ClearOverride(ctx, u.ID, lil.ID); err != nil || was {
		t.Errorf("second ClearOverride = %v, %v", was, err)
	}

	if err := db.Store.Presets.SetCharacterDefault(ctx, lil.ID, "00000000-0000-0000-0000-000000000003"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("character default to a missing preset: %v", err)
	}
	if err := db.Store.Presets.SetCharacterDefault(ctx, "00000000-0000-0000-0000-000000000004", global.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("character default of a missing character: %v", err)
	}
}

// TestPresetLayersCascade: the layers come lowest priority first (global default,
// character default, user default, override), missing ones are skipped, and a guest gets
// the free default alone.
func TestPresetLayersCascade(t *testing.T) {
	ctx := context.Background()
	u := presetUser(t, "preset-layers")
	bare := presetUser(t, "preset-layers-bare")
	lil := lilith(t, "lilith-preset-layers")
	plain := lilith(t, "lilith-preset-layers-plain")
	global := mustPreset(t, store.Preset{Name: "layer-global", Model: "global/m", Parameters: preset.Values{"temperature": 0.1, "top_k": 5}})
	free := mustPreset(t, store.Preset{Name: "layer-free", Model: "free/m", Parameters: preset.Values{"temperature": 0.2}})
	character := mustPreset(t, store.Preset{Name: "layer-character", Model: "character/m", Parameters: preset.Values{"temperature": 0.3, "top_p": 0.5}})
	userDefault := mustPreset(t, store.Preset{Name: "layer-user", OwnerID: u.ID, Model: "user/m", Parameters: preset.Values{"temperature": 0.4, "max_images": 4}})
	override := mustPreset(t, store.Preset{Name: "layer-override", OwnerID: u.ID, Model: "override/m", Parameters: preset.Values{"temperature": nil, "seed": 7}})
	for _, err := range []error{
		db.Store.Presets.SetGlobalDefault(ctx, global.ID),
		db.Store.Presets.SetFreeDefault(ctx, free.ID),
		db.Store.Presets.SetCharacterDefault(ctx, lil.ID, character.ID),
		db.Store.Presets.SetUserDefault(ctx, u.ID, userDefault.ID),
		db.Store.Presets.SetOverride(ctx, u.ID, lil.ID, override.ID),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	models := func(layers []preset.Values) []string {
		var out []string
		for _, l := range layers {
			out = append(out, l["model"].(string))
		}
		return out
	}
	tests := []struct {
		name              string
		user, personality string
		guest             bool
		want              []string
	}{
		{"full cascade", u.ID, lil.ID, false, []string{"global/m", "character/m", "user/m", "override/m"}},
		{"no override for this character", u.ID, plain.ID, false, []string{"global/m", "user/m"}},
		{"user without choices", bare.ID, lil.ID, false, []string{"global/m", "character/m"}},
		{"unknown user", "", lil.ID, false, []string{"global/m", "character/m"}},
		{"guest", u.ID, lil.ID, true, []string{"free/m"}},
		{"guest without a user", "", "", true, []string{"free/m"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			layers, err := db.Store.Presets.Layers(ctx, tc.user, tc.personality, tc.guest)
			if err != nil {
				t.Fatal(err)
			}
			if got := models(layers); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("layers %v, want %v", got, tc.want)
			}
		})
	}
	layers, err := db.Store.Presets.Layers(ctx, u.ID, lil.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	merged := preset.Merge(layers...)
	want := preset.Values{"model": "override/m", "top_k": 5, "top_p": 0.5, "max_images": 4, "seed": 7}
	if !reflect.DeepEqual(merged, want) {
		t.Errorf("merged cascade = %v, want %v (the override's null clears temperature)", merged, want)
	}
}
