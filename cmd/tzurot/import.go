package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/tzurot/tzurot/activities"
	"github.com/tzurot/tzurot/activities/shapes"
	"github.com/tzurot/tzurot/store"
	"github.com/tzurot/tzurot/workers"
)

// importCommand is `tzurot import shapes DIR`: an operator brings a user's shapes.inc
// backup in (the same import as /character import), for backups too big to upload.
func importCommand() *cli.Command {
	return &cli.Command{
		Name:  "import",
		Usage: "bring characters in from elsewhere",
		Subcommands: []*cli.Command{{
			Name:      "shapes",
			Usage:     "import a shapes.inc backup (its folder, or a zip) as a character with its memories",
			ArgsUsage: "DIR",
			Flags: join(dbFlags(), []cli.Flag{
				&cli.StringFlag{Name: "owner", EnvVars: []string{"TZUROT_IMPORT_OWNER"}, Required: true, Usage: "Discord user id who owns the character (its memories go to their default persona)"},
				&cli.BoolFlag{Name: "public", EnvVars: []string{"TZUROT_IMPORT_PUBLIC"}, Usage: "make the character public (default: private, as /character import does)"},
			}),
			Action: importShapes,
		}},
	}
}

func importShapes(c *cli.Context) error {
	if c.NArg() != 1 {
		return errors.New("usage: tzurot import shapes --owner DISCORD_USER_ID DIR (a shape's backup folder, or a zip of it)")
	}
	path, owner := c.Args().First(), strings.TrimSpace(c.String("owner"))
	backup, err := loadBackup(path)
	if err != nil {
		return err
	}
	st, err := workers.OpenStore(c.Context, c.String("database-url"), workers.NewLogger(os.Stderr, "warn", "text"))
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.Users.ByDiscordID(c.Context, owner)
	if errors.Is(err, store.ErrNotFound) {
		u, err = st.Users.Ensure(c.Context, owner, "", "")
	}
	if err != nil {
		return err
	}
	n, err := activities.ShapesCharacter(backup, u.ID, u.DefaultPersonaID)
	if err != nil {
		return err
	}
	n.Personality.IsPublic = c.Bool("public")
	created, err := st.Characters.Create(c.Context, n)
	if err != nil {
		return err
	}
	p := created.Personality
	fmt.Printf("imported %s (%s) for %s: %d memories\n", p.DisplayName, p.Slug, owner, created.Memories)
	if len(backup.Aliases) > 0 {
		fmt.Printf("keywords, not made aliases (/character alias add adds them): %s\n", strings.Join(backup.Aliases, ", "))
	}
	for _, w := range backup.Warnings {
		fmt.Println("warning:", w)
	}
	return nil
}

// loadBackup reads a backup folder, or a zip of one.
func loadBackup(path string) (*shapes.Backup, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, errors.Unwrap(err))
	}
	if fi.IsDir() {
		return shapes.Load(os.DirFS(path))
	}
	if fi.Size() > shapes.MaxZipUnpacked {
		return nil, fmt.Errorf("%s is %d MiB; a backup zip may be at most %d MiB", path, fi.Size()>>20, shapes.MaxZipUnpacked>>20)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return shapes.LoadZip(data)
}
