package shapes

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// auxSuffixes name the files beside {slug}.json in the folder layout.
var auxSuffixes = map[string]string{
	"_memories.json":             "memories",
	"_knowledge.json":            "knowledge",
	"_training.json":             "training",
	"_user_personalization.json": "personalization",
	"_chat_history.json":         "chat",
}

// zipNames are the files of the older zip layout, {name}/profile.json and its siblings.
var zipNames = map[string]string{
	"memories.json":             "memories",
	"knowledge.json":            "knowledge",
	"training.json":             "training",
	"user_personalization.json": "personalization",
	"chat_history.json":         "chat",
}

// Load reads one shape's backup from fsys: a folder `{slug}/` holding `{slug}.json` and
// its `{slug}_*.json` siblings, the older zip layout (`profile.json`, `memories.json`...),
// a `{slug}-export.json` envelope, or a memories-only export. fsys may be the shape's
// folder or a folder holding just that one. Missing or broken side files and unknown
// variants become Backup.Warnings; a missing config is an error.
func Load(fsys fs.FS) (*Backup, error) {
	dir, files, err := findShapeDir(fsys)
	if err != nil {
		return nil, err
	}
	if files["profile.json"] {
		return loadParts(dir, "profile.json", "zip", func(name string) string { return zipNames[name] }, files)
	}
	for _, name := range sortedNames(files) {
		if strings.HasSuffix(name, "-export.json") {
			return loadSingle(dir, name)
		}
	}
	slugs := map[string]bool{}
	for name := range files {
		if slug, kind := auxOf(name); kind != "" {
			slugs[slug] = true
		}
	}
	for _, slug := range sortedNames(slugs) {
		if files[slug+".json"] {
			return loadParts(dir, slug+".json", "folder", func(name string) string {
				if s, kind := auxOf(name); s == slug {
					return kind
				}
				return ""
			}, files)
		}
	}
	var candidates []string
	for _, name := range sortedNames(files) {
		if _, kind := auxOf(name); kind == "" && name != "metadata.json" && !strings.HasPrefix(name, ".") {
			candidates = append(candidates, name)
		}
	}
	if len(candidates) == 1 {
		return loadSingle(dir, candidates[0])
	}
	if len(slugs) > 0 {
		s := sortedNames(slugs)[0]
		return nil, fmt.Errorf("the backup has files for %q (such as its memories) but no %s.json, which holds the character's settings", s, s)
	}
	if len(candidates) == 0 {
		return nil, errors.New("no shapes.inc backup found: expected {slug}.json, profile.json or {slug}-export.json")
	}
	return nil, fmt.Errorf("cannot tell which file is the shape's settings: %s", strings.Join(candidates, ", "))
}

// LoadZip reads a backup zip (any of the layouts Load reads, zipped). It refuses zip
// bombs before inflating anything: at most MaxZipEntries files and MaxZipUnpacked bytes
// as the zip declares them; no entry is read past its declared size.
func LoadZip(data []byte) (*Backup, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("the file is not a readable zip archive: %w", err)
	}
	if len(zr.File) > MaxZipEntries {
		return nil, fmt.Errorf("the zip holds %d files; at most %d are accepted", len(zr.File), MaxZipEntries)
	}
	var total uint64
	for _, f := range zr.File {
		if total += f.UncompressedSize64; total > MaxZipUnpacked {
			return nil, fmt.Errorf("the zip unpacks to more than %d MiB; that is too large for one shape", MaxZipUnpacked>>20)
		}
	}
	return Load(zr)
}

// auxOf splits "lilith_memories.json" into ("lilith", "memories").
func auxOf(name string) (slug, kind string) {
	for suffix, k := range auxSuffixes {
		if s, ok := strings.CutSuffix(name, suffix); ok && s != "" {
			return s, k
		}
	}
	return "", ""
}

// findShapeDir descends through folders that hold nothing but one folder (a zip of
// `lilith/`, a folder holding `lilith/`) and lists the JSON files where the shape is.
func findShapeDir(fsys fs.FS) (fs.FS, map[string]bool, error) {
	for depth := 0; depth < 4; depth++ {
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			return nil, nil, fmt.Errorf("reading the backup: %w", err)
		}
		files, dirs := map[string]bool{}, []string{}
		for _, e := range entries {
			name := e.Name()
			switch {
			case strings.HasPrefix(name, ".") && name != ".backup-metadata.json", strings.HasPrefix(name, "__MACOSX"):
			case e.IsDir():
				dirs = append(dirs, name)
			case strings.EqualFold(path.Ext(name), ".json"):
				files[name] = true
			}
		}
		if len(files) > 0 {
			return fsys, files, nil
		}
		if len(dirs) > 1 {
			return nil, nil, fmt.Errorf("this folder holds several shapes (%s); import them one at a time", strings.Join(dirs, ", "))
		}
		if len(dirs) == 0 {
			break
		}
		if fsys, err = fs.Sub(fsys, dirs[0]); err != nil {
			return nil, nil, err
		}
	}
	return nil, nil, errors.New("no shapes.inc backup found: the folder has no JSON files")
}

// loadParts reads a config file and the side files kindOf recognises.
func loadParts(dir fs.FS, config, layout string, kindOf func(string) string, files map[string]bool) (*Backup, error) {
	raw, err := readFile(dir, config)
	if err != nil {
		return nil, err
	}
	o, ok := decodeObject(raw)
	if !ok || !looksLikeConfig(o) {
		return nil, fmt.Errorf("%s is not a shapes.inc config (it should be a JSON object with the shape's name and prompts)", config)
	}
	b, w := newBackup(layout)
	applyConfig(b, o, w)
	for _, name := range sortedNames(files) {
		kind := kindOf(name)
		if kind == "" {
			continue
		}
		data, err := readFile(dir, name)
		if err != nil {
			w.add("%s could not be read: %v", name, err)
			continue
		}
		applySide(b, kind, name, data, w)
	}
	return finish(b, w), nil
}

// applySide adds one side file (memories, knowledge...) to the backup.
func applySide(b *Backup, kind, name string, data []byte, w *warnings) {
	if kind == "personalization" {
		if o, ok := decodeObject(data); ok {
			b.UserPersonalization = personalization(o, w)
		} else {
			w.add("%s is not a JSON object; it was skipped", name)
		}
		return
	}
	list, ok := listOf(data, "items", "memories", "story", "knowledge", "training", "messages")
	if !ok {
		w.add("%s is not a list this importer knows; it was skipped", name)
		return
	}
	switch kind {
	case "memories":
		b.Memories = append(b.Memories, memories(list, w)...)
	case "knowledge":
		b.Knowledge = append(b.Knowledge, knowledge(list, w)...)
	case "training":
		b.Training = append(b.Training, list...)
	case "chat":
		b.ChatHistory = append(b.ChatHistory, chatHistory(list, w)...)
	}
}

// loadSingle reads a file that is the whole backup: an envelope, a memories-only export,
// or a lone config.
func loadSingle(dir fs.FS, name string) (*Backup, error) {
	raw, err := readFile(dir, name)
	if err != nil {
		return nil, err
	}
	o, ok := decodeObject(raw)
	if !ok {
		return nil, fmt.Errorf("%s is not a JSON object", name)
	}
	switch {
	case o["config"] != nil && (o["sourceSlug"] != nil || o["memories"] != nil):
		return loadEnvelope(o, name)
	case o["memories"] != nil && !looksLikeConfig(o):
		return loadMemoriesOnly(o, name)
	case looksLikeConfig(o):
		b, w := newBackup("folder")
		applyConfig(b, o, w)
		return finish(b, w), nil
	}
	return nil, fmt.Errorf("%s is not a shapes.inc backup: it has no config (name, prompts) and no memories", name)
}

// loadEnvelope reads {exportedAt, sourceSlug, config, memories, stories,
// userPersonalization, stats}.
func loadEnvelope(o object, name string) (*Backup, error) {
	cfg, ok := decodeObject(o["config"])
	if !ok || !looksLikeConfig(cfg) {
		return nil, fmt.Errorf("%s has no usable config (the character's settings)", name)
	}
	b, w := newBackup("envelope")
	applyConfig(b, cfg, w)
	if list, ok := listOf(o["memories"]); ok {
		b.Memories = memories(list, w)
	}
	if list, ok := listOf(o["stories"]); ok {
		b.Knowledge = knowledge(list, w)
	}
	if up, ok := decodeObject(o["userPersonalization"]); ok {
		b.UserPersonalization = personalization(up, w)
	}
	stats := o.object("stats")
	if n, ok := stats.number("memoriesCount", w); ok && int(n) != len(o.list("memories")) {
		w.add("the export says it holds %d memories but has %d; it may be incomplete", int(n), len(o.list("memories")))
	}
	return finish(b, w), nil
}

// loadMemoriesOnly reads {shape, exported_at, count, memories:[{type, content, date}]}.
func loadMemoriesOnly(o object, name string) (*Backup, error) {
	list, ok := listOf(o["memories"])
	if !ok {
		return nil, fmt.Errorf("%s: memories is not a list", name)
	}
	b, w := newBackup("memories")
	b.MemoriesOnly = true
	shape := strings.TrimSpace(o.text("shape", w))
	b.Personality.Name, b.Personality.DisplayName, b.Personality.Slug = shape, shape, slugify(shape, shape)
	w.add("this export holds memories only, not the character: import them into an existing character")
	b.Memories = memories(list, w)
	if n, ok := o.number("count", w); ok && int(n) != len(list) {
		w.add("the export says it holds %d memories but has %d; it may be incomplete", int(n), len(list))
	}
	return finish(b, w), nil
}

func (o object) list(key string) []json.RawMessage {
	l, _ := listOf(o[key])
	return l
}

func newBackup(layout string) (*Backup, *warnings) {
	return &Backup{Layout: layout, Extensions: map[string]any{"source": "shapes.inc"}}, &warnings{}
}

func finish(b *Backup, w *warnings) *Backup {
	b.Warnings = w.list
	return b
}

// readFile reads one file, refusing ones past MaxFileSize.
func readFile(dir fs.FS, name string) ([]byte, error) {
	f, err := dir.Open(name)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", name, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s is %d MiB; at most %d MiB is read", name, st.Size()>>20, MaxFileSize>>20)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("%s is larger than %d MiB", name, MaxFileSize>>20)
	}
	return bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), nil
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
