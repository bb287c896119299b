package preset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Line is one row of /preset view.
type Line struct {
	Name    string
	Value   string // as Parse reads it; "" when unset and the provider's default applies
	Default bool   // no layer set it: Value is the field's default (or "")
	Help    string
	Allowed string // what the field accepts, in words
}

// Display lists every field of v in table order, with defaults filled in and marked.
func Display(v Values) []Line {
	out := make([]Line, 0, len(Fields))
	for _, f := range Fields {
		l := Line{Name: f.Name, Help: f.Help, Allowed: f.Allowed()}
		if raw, ok := v[f.Name]; ok && raw != nil {
			l.Value = Format(f.Name, raw)
		} else {
			l.Value, l.Default = Format(f.Name, f.Default), true
		}
		out = append(out, l)
	}
	return out
}

// MaxNameLen is the longest preset name, Discord's limit on a command option's choice.
const MaxNameLen = 100

// MaxExportSize bounds what Import reads; a real preset is a few hundred bytes.
const MaxExportSize = 64 << 10

// exported is the file format of Export and Import.
type exported struct {
	Name       string `json:"name"`
	Parameters Values `json:"parameters"`
}

// Export writes a preset as {"name": ..., "parameters": {...}}, indented, keys sorted.
// Nil values (an override's clears) are kept as null, so Import gives back exactly v.
func Export(name string, v Values) ([]byte, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	n, err := Normalize(v)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(exported{Name: name, Parameters: n}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("export preset %q: %w", name, err)
	}
	return append(b, '\n'), nil
}

// Import reads what Export wrote and validates it. The values come back in canonical
// types (Normalize); integers keep every digit. Unknown top-level keys are rejected, as
// are unknown or invalid parameters (a *FieldError).
func Import(data []byte) (name string, v Values, err error) {
	if len(data) > MaxExportSize {
		return "", nil, fmt.Errorf("a preset file is at most %d KiB", MaxExportSize>>10)
	}
	var e struct {
		Name       *string         `json:"name"`
		Parameters json.RawMessage `json:"parameters"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return "", nil, fmt.Errorf("not a preset file: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", nil, errors.New("not a preset file: text after the JSON object")
	}
	if e.Name == nil {
		return "", nil, errors.New("not a preset file: no name")
	}
	if err := checkName(*e.Name); err != nil {
		return "", nil, err
	}
	v, err = Decode(e.Parameters)
	if err != nil {
		return "", nil, err
	}
	return *e.Name, v, nil
}

// Decode reads a JSON object of parameters (a preset row's JSONB column) into validated
// Values in canonical types. Empty input or null is an empty Values.
func Decode(data []byte) (Values, error) {
	raw := Values{}
	if t := bytes.TrimSpace(data); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		dec := json.NewDecoder(bytes.NewReader(t))
		dec.UseNumber()
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("parameters are not a JSON object: %w", err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, errors.New("parameters are not a JSON object: text after it")
		}
		if raw == nil {
			raw = Values{}
		}
	}
	return Normalize(raw)
}

func checkName(name string) error {
	if strings.TrimSpace(name) == "" || name != strings.TrimSpace(name) ||
		!utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxNameLen ||
		strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return &FieldError{Field: "name", Value: describe(name),
			Allowed: fmt.Sprintf("1 to %d characters on one line, without spaces at either end", MaxNameLen)}
	}
	return nil
}
