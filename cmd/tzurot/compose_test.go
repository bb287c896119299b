package main

import (
	"os"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"
)

// The compose file cannot run here (no Docker engine), so it is checked statically:
// every tzurot service runs a real command, and every variable it sets is one the
// binary reads for that command.
func TestComposeFileMatchesTheBinary(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Build       any               `yaml:"build"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Healthcheck *struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	app := newApp()
	commands := map[string]*cli.Command{}
	for _, c := range app.Commands {
		commands[c.Name] = c
	}
	tzurotServices := 0
	for name, svc := range compose.Services {
		if svc.Healthcheck == nil {
			t.Errorf("service %s has no healthcheck", name)
		}
		if svc.Build == nil {
			continue
		}
		tzurotServices++
		if len(svc.Command) == 0 {
			t.Fatalf("service %s has no command", name)
		}
		cmd, ok := commands[svc.Command[0]]
		if !ok {
			t.Fatalf("service %s runs unknown command %q", name, svc.Command[0])
		}
		envs := map[string]bool{}
		for _, f := range cmd.Flags {
			if ev, ok := f.(interface{ GetEnvVars() []string }); ok {
				for _, e := range ev.GetEnvVars() {
					envs[e] = true
				}
			}
		}
		for k := range svc.Environment {
			if !envs[k] {
				t.Errorf("service %s sets %s, which `tzurot %s` does not read", name, k, cmd.Name)
			}
		}
		for _, required := range []string{"DATABASE_URL", "TEMPORAL_ADDRESS", "DISCORD_TOKEN"} {
			if _, ok := svc.Environment[required]; !ok {
				t.Errorf("service %s does not set %s", name, required)
			}
		}
		if hc := strings.Join(svc.Healthcheck.Test, " "); !strings.Contains(hc, "/tzurot health") {
			t.Errorf("service %s healthcheck %q does not use `tzurot health`", name, hc)
		}
	}
	if tzurotServices != 2 {
		t.Errorf("%d tzurot services, want bot and worker", tzurotServices)
	}
}

// Every flag has an environment variable, and --help names it.
func TestEveryFlagHasAnEnvironmentVariable(t *testing.T) {
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			for _, f := range c.Flags {
				ev, ok := f.(interface{ GetEnvVars() []string })
				if f.Names()[0] == "reply-to" {
					continue // a per-call argument of `dev say`, not a setting
				}
				if !ok || len(ev.GetEnvVars()) == 0 {
					t.Errorf("%s %s --%s has no environment variable", prefix, c.Name, f.Names()[0])
				}
			}
			walk(prefix+" "+c.Name, c.Subcommands)
		}
	}
	walk("tzurot", newApp().Commands)
}
