package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/tzurot/tzurot/store"
)

func TestDenylistAddRemoveBrowse(t *testing.T) {
	ctx := context.Background()
	sf := db.Store.Safety
	added, err := sf.Deny(ctx, store.DenyUser, "deny-u1", "spam")
	if err != nil || !added {
		t.Fatalf("Deny = %v, %v; want added", added, err)
	}
	if added, err = sf.Deny(ctx, store.DenyUser, "deny-u1", "spam, again"); err != nil || added {
		t.Fatalf("second Deny = %v, %v; want an update", added, err)
	}
	if _, err := sf.Deny(ctx, store.DenyGuild, "deny-g1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := sf.Deny(ctx, store.DenyKind("channel"), "x", ""); err == nil {
		t.Error("an unknown kind was accepted")
	}

	list, err := sf.Denylist(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !list.Users["deny-u1"] || !list.Guilds["deny-g1"] || list.Users["deny-g1"] || list.Guilds["deny-u1"] {
		t.Fatalf("Denylist = %+v, want the user and the guild each under its kind", list)
	}
	entries, err := sf.DenyEntries(ctx, store.DenyUser, 0)
	if err != nil {
		t.Fatal(err)
	}
	var found *store.DenyEntry
	for i := range entries {
		if entries[i].Kind != store.DenyUser {
			t.Errorf("user listing has %+v", entries[i])
		}
		if entries[i].DiscordID == "deny-u1" {
			found = &entries[i]
		}
	}
	if found == nil || found.Reason != "spam, again" || found.CreatedAt.IsZero() {
		t.Fatalf("entry = %+v, want the updated reason and a date", found)
	}

	removed, err := sf.Undeny(ctx, store.DenyUser, "deny-u1")
	if err != nil || !removed {
		t.Fatalf("Undeny = %v, %v", removed, err)
	}
	if removed, _ = sf.Undeny(ctx, store.DenyUser, "deny-u1"); removed {
		t.Error("a second Undeny removed something")
	}
	if list, _ = sf.Denylist(ctx); list.Users["deny-u1"] {
		t.Error("removed user still denied")
	}
}

func TestRestrictionModesAndChannels(t *testing.T) {
	ctx := context.Background()
	sf := db.Store.Safety
	const g = "restrict-g1"
	r, err := sf.Restriction(ctx, g)
	if err != nil || r.Mode != store.RestrictOff || len(r.Channels) != 0 {
		t.Fatalf("fresh restriction = %+v, %v; want off and empty", r, err)
	}
	for _, ch := range []string{"c1", "c2", "c1"} {
		if _, err := sf.AddRestrictedChannel(ctx, g, ch); err != nil {
			t.Fatal(err)
		}
	}
	all, err := sf.Restrictions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, on := all[g]; on {
		t.Fatal("a listed server without a mode counts as restricted")
	}
	if err := sf.SetRestrictMode(ctx, g, store.RestrictAllow); err != nil {
		t.Fatal(err)
	}
	if r, _ = sf.Restriction(ctx, g); r.Mode != store.RestrictAllow || !reflect.DeepEqual(r.Channels, []string{"c1", "c2"}) {
		t.Fatalf("restriction = %+v, want allow c1, c2", r)
	}
	if err := sf.SetRestrictMode(ctx, g, store.RestrictDeny); err != nil {
		t.Fatal(err)
	}
	removed, err := sf.RemoveRestrictedChannel(ctx, g, "c1")
	if err != nil || !removed {
		t.Fatalf("remove = %v, %v", removed, err)
	}
	all, _ = sf.Restrictions(ctx)
	if got := all[g]; got.Mode != store.RestrictDeny || !reflect.DeepEqual(got.Channels, []string{"c2"}) {
		t.Fatalf("Restrictions()[g] = %+v, want deny c2", got)
	}
	// Off keeps the list, so switching back on restores it.
	if err := sf.SetRestrictMode(ctx, g, store.RestrictOff); err != nil {
		t.Fatal(err)
	}
	if all, _ = sf.Restrictions(ctx); all[g].Mode != "" {
		t.Errorf("an off server is still listed: %+v", all[g])
	}
	if r, _ = sf.Restriction(ctx, g); r.Mode != store.RestrictOff || !reflect.DeepEqual(r.Channels, []string{"c2"}) {
		t.Errorf("after off: %+v, want off with c2 kept", r)
	}
	if err := sf.SetRestrictMode(ctx, g, "sometimes"); !errors.Is(err, store.ErrBadMode) {
		t.Errorf("bad mode: %v", err)
	}
}

func TestNSFWVerification(t *testing.T) {
	ctx := context.Background()
	sf := db.Store.Safety
	if ok, err := sf.NSFWVerified(ctx, "nsfw-nobody"); err != nil || ok {
		t.Fatalf("unknown user verified = %v, %v", ok, err)
	}
	u, err := db.Store.Users.Ensure(ctx, "nsfw-1", "n", "N")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := sf.NSFWVerified(ctx, "nsfw-1"); ok {
		t.Fatal("a new user is verified")
	}
	if err := sf.VerifyNSFW(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	var first string
	if err := db.Store.Pool.QueryRow(ctx, `SELECT nsfw_verified_at::text FROM users WHERE id = $1`, u.ID).Scan(&first); err != nil {
		t.Fatal(err)
	}
	if err := sf.VerifyNSFW(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	var again string
	_ = db.Store.Pool.QueryRow(ctx, `SELECT nsfw_verified_at::text FROM users WHERE id = $1`, u.ID).Scan(&again)
	if again != first {
		t.Errorf("verification date moved from %s to %s; the first time counts", first, again)
	}
	if ok, err := sf.NSFWVerified(ctx, "nsfw-1"); err != nil || !ok {
		t.Fatalf("verified = %v, %v", ok, err)
	}
}
