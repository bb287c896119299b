package cards

import (
	"archive/zip"
	"bytes"
	"io"
	"path"
	"strings"
)

// parseCHARX reads a CHARX: a zip with card.json at its root and the assets it names
// under `embeded://` (sic) URIs. Zip bombs are refused before anything is inflated: at
// most MaxZipEntries files, at most MaxUnpackedSize in all as the zip declares it, and no
// entry is read past its declared size (a lying header fails the read).
func parseCHARX(data []byte) (*Card, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, problem("the CHARX file is not a readable zip archive")
	}
	if len(zr.File) > MaxZipEntries {
		return nil, problem("the CHARX file holds %d files; at most %d are accepted", len(zr.File), MaxZipEntries)
	}
	var total uint64
	var cardFile *zip.File
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if total > MaxUnpackedSize {
			return nil, problem("the CHARX file unpacks to more than %s; that is too large for a character card", megabytes(MaxUnpackedSize))
		}
		if strings.EqualFold(f.Name, "card.json") {
			cardFile = f
		}
	}
	if cardFile == nil {
		return nil, problem("the CHARX file has no card.json at its root")
	}
	b, err := readZipFile(cardFile)
	if err != nil {
		return nil, problem("the CHARX file's card.json could not be unpacked")
	}
	c, err := decodeCardJSON(trimBOM(b))
	if err != nil {
		if pe, ok := err.(*ParseError); ok {
			return nil, problem("the CHARX file's card.json: %s", pe.Problem)
		}
		return nil, err
	}
	c.Origin.Format = "charx"
	if icon := mainIcon(c.Assets); icon != nil {
		if f := findZipFile(zr, embeddedPath(icon.URI)); f != nil {
			if img, err := readZipFile(f); err == nil {
				c.Origin.Avatar, c.Origin.AvatarExt = img, strings.ToLower(icon.Ext)
			}
		}
	}
	return c, nil
}

// readZipFile reads one entry, never more than it declares (the total was checked).
func readZipFile(f *zip.File) ([]byte, error) {
	r, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, int64(f.UncompressedSize64)+1))
	if err != nil {
		return nil, err
	}
	if uint64(len(b)) > f.UncompressedSize64 {
		return nil, io.ErrUnexpectedEOF
	}
	return b, nil
}

// mainIcon picks the asset to use as the avatar: the icon named "main", else the first
// icon, as the V3 spec says.
func mainIcon(assets []Asset) *Asset {
	var first *Asset
	for i := range assets {
		a := &assets[i]
		if a.Type != "icon" {
			continue
		}
		if a.Name == "main" {
			return a
		}
		if first == nil {
			first = a
		}
	}
	return first
}

// embeddedPath turns `embeded://assets/x.png` (the spec's spelling) or `embedded://...`
// into a zip path; any other URI yields "".
func embeddedPath(uri string) string {
	for _, p := range []string{"embeded://", "embedded://"} {
		if strings.HasPrefix(uri, p) {
			return path.Clean(strings.TrimPrefix(uri, p))
		}
	}
	return ""
}

func findZipFile(zr *zip.Reader, name string) *zip.File {
	if name == "" {
		return nil
	}
	for _, f := range zr.File {
		if f.Name == name {
			return f
		}
	}
	return nil
}
