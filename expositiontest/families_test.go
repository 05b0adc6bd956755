package expositiontest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// description is where the tree describes a metric family.
type description struct {
	name, help string // help "" when not a string literal
	at         string
}

// describedFamilies walks the module's non-test Go files for metric family
// descriptions: prometheus.NewDesc, a *Opts literal's Name and Help, or a
// constructor helper called as counter("resonance_x_total", "Help.", ...).
// Names not written as a literal are not found; BuildFQName is reported.
func describedFamilies(t *testing.T) []description {
	t.Helper()
	fset := token.NewFileSet()
	var out []description
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != ".." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var name, help ast.Expr
			switch x := n.(type) {
			case *ast.CallExpr:
				sel, _ := x.Fun.(*ast.SelectorExpr)
				switch {
				case sel != nil && sel.Sel.Name == "BuildFQName":
					t.Errorf("%s: a family name assembled by BuildFQName is not found by a grep for it", fset.Position(x.Pos()))
				case sel != nil && sel.Sel.Name == "NewDesc" && len(x.Args) > 1:
					name, help = x.Args[0], x.Args[1]
				case len(x.Args) > 1 && strings.HasPrefix(stringLit(x.Args[0]), "resonance_") && strings.Contains(stringLit(x.Args[1]), " "):
					name, help = x.Args[0], x.Args[1]
				}
			case *ast.CompositeLit:
				if sel, ok := x.Type.(*ast.SelectorExpr); ok && strings.HasSuffix(sel.Sel.Name, "Opts") {
					for _, e := range x.Elts {
						if kv, ok := e.(*ast.KeyValueExpr); ok {
							switch kv.Key.(*ast.Ident).Name {
							case "Name":
								name = kv.Value
							case "Help":
								help = kv.Value
							}
						}
					}
				}
			}
			if s := stringLit(name); s != "" {
				out = append(out, description{name: s, help: stringLit(help), at: fset.Position(name.Pos()).String()})
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 50 {
		t.Fatalf("found only %d family descriptions: the walk misses the tree", len(out))
	}
	return out
}

// stringLit is the value of a string literal, or of literals joined by +;
// "" for anything else.
func stringLit(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind == token.STRING {
			s, _ := strconv.Unquote(x.Value)
			return s
		}
	case *ast.BinaryExpr:
		if l, r := stringLit(x.X), stringLit(x.Y); x.Op == token.ADD && l != "" && r != "" {
			return l + r
		}
	}
	return ""
}

// Each metric family is described in one place, next to the code that fills
// it, under its full name, so that one grep for the name finds it: no family
// is described twice (a family fed by two sources, such as the app's and the
// wallet collector's resonance_wallet_balance_pi, has one owner of its Desc),
// and none is assembled from parts.
func TestEachFamilyDescribedOnce(t *testing.T) {
	at := map[string][]string{}
	for _, d := range describedFamilies(t) {
		at[d.name] = append(at[d.name], d.at)
	}
	for name, places := range at {
		if len(places) > 1 {
			t.Errorf("%s described %d times: %v", name, len(places), places)
		}
	}
}

// sentenceEnd is a full stop followed by more text: a second sentence.
var sentenceEnd = regexp.MustCompile(`[a-z0-9)]\. +[A-Z]`)

// A HELP text is one sentence, written where the family is described (not a
// constant shared across packages); advice and caveats go to the docs.
func TestHelpIsOneSentenceWrittenInPlace(t *testing.T) {
	for _, d := range describedFamilies(t) {
		switch {
		case d.help == "":
			t.Errorf("%s (%s): HELP is not a string literal in place", d.name, d.at)
		case !strings.HasSuffix(d.help, "."):
			t.Errorf("%s (%s): HELP %q does not end its sentence", d.name, d.at, d.help)
		case sentenceEnd.MatchString(d.help):
			t.Errorf("%s (%s): HELP %q has more than one sentence", d.name, d.at, d.help)
		}
	}
}
