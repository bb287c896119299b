package discordtest

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// Discord's application command limits.
const (
	maxCommands = 100
	maxOptions  = 25
)

// chatInputNameRE is Discord's rule for slash command and option names
// (simplified to the scripts a test will use): lowercase, 1-32 characters.
var chatInputNameRE = regexp.MustCompile(`^[-_\p{Ll}\p{Lo}\p{N}]{1,32}$`)

// Commands returns what the bot registered: global commands first, then each
// guild's, in registration order.
func (s *Server) Commands() []*discordgo.ApplicationCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []*discordgo.ApplicationCommand{}
	for _, c := range s.globalCommands {
		out = append(out, clone(c))
	}
	gids := make([]string, 0, len(s.guildCommands))
	for gid := range s.guildCommands {
		gids = append(gids, gid)
	}
	sort.Strings(gids)
	for _, gid := range gids {
		for _, c := range s.guildCommands[gid] {
			out = append(out, clone(c))
		}
	}
	return out
}

// commandsLocked lists the commands usable in a guild ("" for DMs).
func (s *Server) commandsLocked(guildID string) []*discordgo.ApplicationCommand {
	out := append([]*discordgo.ApplicationCommand{}, s.globalCommands...)
	return append(out, s.guildCommands[guildID]...)
}

// commandScopeLocked checks the path's application and guild and returns a
// pointer to the command list they name; it has answered when ok is false.
func (s *Server) commandScopeLocked(w http.ResponseWriter, r *http.Request) (list *[]*discordgo.ApplicationCommand, guildID string, ok bool) {
	if r.PathValue("app") != s.opts.ApplicationID {
		writeError(w, http.StatusForbidden, 50001, "Missing Access")
		return nil, "", false
	}
	gid := r.PathValue("g")
	if gid == "" {
		return &s.globalCommands, "", true
	}
	if _, ok := s.guilds[gid]; !ok {
		writeError(w, http.StatusForbidden, 50001, "Missing Access")
		return nil, "", false
	}
	l := s.guildCommands[gid]
	return &l, gid, true
}

func (s *Server) storeCommandsLocked(guildID string, list []*discordgo.ApplicationCommand) {
	if guildID == "" {
		s.globalCommands = list
	} else {
		s.guildCommands[guildID] = list
	}
}

func (s *Server) listCommands(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if list, _, ok := s.commandScopeLocked(w, r); ok {
		writeJSON(w, http.StatusOK, append([]*discordgo.ApplicationCommand{}, *list...))
	}
}

func (s *Server) overwriteCommands(w http.ResponseWriter, r *http.Request) {
	var cmds []*discordgo.ApplicationCommand
	if _, ok := decodeBody(w, r, &cmds); !ok {
		return
	}
	if len(cmds) > maxCommands {
		writeFormError(w, "_", "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", maxCommands))
		return
	}
	seen := map[string]bool{}
	for i, c := range cmds {
		if c == nil {
			writeFormError(w, fmt.Sprint(i), "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
			return
		}
		if !validateCommand(w, fmt.Sprint(i)+".", c) {
			return
		}
		key := fmt.Sprint(commandType(c), c.Name)
		if seen[key] {
			writeFormError(w, fmt.Sprint(i)+".name", "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
			return
		}
		seen[key] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list, gid, ok := s.commandScopeLocked(w, r)
	if !ok {
		return
	}
	out := make([]*discordgo.ApplicationCommand, 0, len(cmds))
	for _, c := range cmds {
		out = append(out, s.registerLocked(*list, gid, c))
	}
	s.storeCommandsLocked(gid, out)
	writeJSON(w, http.StatusOK, out)
}

// registerLocked fills server-side fields, keeping the id of an existing
// command with the same type and name, as Discord does.
func (s *Server) registerLocked(existing []*discordgo.ApplicationCommand, guildID string, c *discordgo.ApplicationCommand) *discordgo.ApplicationCommand {
	out := clone(c)
	out.Type = commandType(c)
	out.ApplicationID = s.opts.ApplicationID
	out.GuildID = guildID
	out.ID = ""
	for _, e := range existing {
		if e.Type == out.Type && e.Name == out.Name {
			out.ID = e.ID
		}
	}
	version, _ := s.ids.next(time.Now())
	if out.ID == "" {
		out.ID = version
	}
	out.Version = version
	return out
}

func (s *Server) createCommand(w http.ResponseWriter, r *http.Request) {
	var c discordgo.ApplicationCommand
	if _, ok := decodeBody(w, r, &c); !ok || !validateCommand(w, "", &c) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list, gid, ok := s.commandScopeLocked(w, r)
	if !ok {
		return
	}
	cmd := s.registerLocked(*list, gid, &c)
	for i, e := range *list {
		if e.ID == cmd.ID {
			(*list)[i] = cmd
			s.storeCommandsLocked(gid, *list)
			writeJSON(w, http.StatusOK, cmd)
			return
		}
	}
	s.storeCommandsLocked(gid, append(*list, cmd))
	writeJSON(w, http.StatusCreated, cmd)
}

func (s *Server) getCommand(w http.ResponseWriter, r *http.Request) {
	s.withCommand(w, r, func(list []*discordgo.ApplicationCommand, gid string, i int) {
		writeJSON(w, http.StatusOK, list[i])
	})
}

func (s *Server) editCommand(w http.ResponseWriter, r *http.Request) {
	var c discordgo.ApplicationCommand
	if _, ok := decodeBody(w, r, &c); !ok {
		return
	}
	s.withCommand(w, r, func(list []*discordgo.ApplicationCommand, gid string, i int) {
		merged := clone(list[i])
		if c.Name != "" {
			merged.Name = c.Name
		}
		if c.Description != "" {
			merged.Description = c.Description
		}
		if c.Options != nil {
			merged.Options = c.Options
		}
		if !validateCommand(w, "", merged) {
			return
		}
		merged.Version, _ = s.ids.next(time.Now())
		list[i] = merged
		writeJSON(w, http.StatusOK, merged)
	})
}

func (s *Server) deleteCommand(w http.ResponseWriter, r *http.Request) {
	s.withCommand(w, r, func(list []*discordgo.ApplicationCommand, gid string, i int) {
		s.storeCommandsLocked(gid, append(list[:i:i], list[i+1:]...))
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *Server) withCommand(w http.ResponseWriter, r *http.Request, fn func(list []*discordgo.ApplicationCommand, gid string, i int)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list, gid, ok := s.commandScopeLocked(w, r)
	if !ok {
		return
	}
	for i, c := range *list {
		if c.ID == r.PathValue("cmd") {
			fn(*list, gid, i)
			return
		}
	}
	notFound(w, "application command")
}

func commandType(c *discordgo.ApplicationCommand) discordgo.ApplicationCommandType {
	if c.Type == 0 {
		return discordgo.ChatApplicationCommand
	}
	return c.Type
}

// validateCommand applies Discord's naming and description rules to a
// command and its options; prefix locates it in the error body ("3.").
func validateCommand(w http.ResponseWriter, prefix string, c *discordgo.ApplicationCommand) bool {
	if commandType(c) != discordgo.ChatApplicationCommand {
		if n := utf8.RuneCountInString(c.Name); n < 1 || n > 32 {
			writeFormError(w, prefix+"name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
			return false
		}
		return true
	}
	if !chatInputNameRE.MatchString(c.Name) {
		writeFormError(w, prefix+"name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
		return false
	}
	if n := utf8.RuneCountInString(c.Description); n < 1 || n > 100 {
		writeFormError(w, prefix+"description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
		return false
	}
	return validateOptions(w, prefix+"options.", c.Options)
}

func validateOptions(w http.ResponseWriter, prefix string, opts []*discordgo.ApplicationCommandOption) bool {
	if len(opts) > maxOptions {
		writeFormError(w, prefix[:len(prefix)-1], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
		return false
	}
	for i, o := range opts {
		p := fmt.Sprintf("%s%d.", prefix, i)
		switch {
		case o == nil:
			writeFormError(w, p[:len(p)-1], "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
			return false
		case !chatInputNameRE.MatchString(o.Name):
			writeFormError(w, p+"name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
			return false
		case utf8.RuneCountInString(o.Description) < 1 || utf8.RuneCountInString(o.Description) > 100:
			writeFormError(w, p+"description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
			return false
		case len(o.Choices) > maxOptions:
			writeFormError(w, p+"choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
			return false
		case !validateOptions(w, p+"options.", o.Options):
			return false
		}
	}
	return true
}
