package expositiontest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Each metric family is described in one place, next to the code that fills
// it, under its full name, so that one grep for the name finds it: no family
// is described twice (a second description of a shared family, such as the
// app's and the wallet collector's resonance_wallet_balance_pi, must reuse
// the owner's Desc), and none is assembled from parts.
func TestEachFamilyDescribedOnce(t *testing.T) {
	fset := token.NewFileSet()
	described := map[string][]string{} // name -> positions
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
			var name ast.Expr
			switch x := n.(type) {
			case *ast.CallExpr:
				if sel, ok := x.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "BuildFQName" {
					t.Errorf("%s: a family name assembled by BuildFQName is not found by a grep for it", fset.Position(x.Pos()))
				}
				if sel, ok := x.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "NewDesc" && len(x.Args) > 0 {
					name = x.Args[0]
				}
				// A constructor helper: counter("resonance_x_total", "Help text.", labels...).
				if len(x.Args) > 1 && isFamilyName(x.Args[0]) {
					if help, ok := x.Args[1].(*ast.BasicLit); ok && strings.Contains(help.Value, " ") {
						name = x.Args[0]
					}
				}
			case *ast.CompositeLit:
				if sel, ok := x.Type.(*ast.SelectorExpr); ok && strings.HasSuffix(sel.Sel.Name, "Opts") {
					for _, e := range x.Elts {
						if kv, ok := e.(*ast.KeyValueExpr); ok && kv.Key.(*ast.Ident).Name == "Name" {
							name = kv.Value
						}
					}
				}
			}
			if lit, ok := name.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, _ := strconv.Unquote(lit.Value)
				described[s] = append(described[s], fset.Position(lit.Pos()).String())
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d families described", len(described))
	if len(described) < 50 {
		t.Fatalf("found only %d described families: the walk misses the tree", len(described))
	}
	for name, at := range described {
		if len(at) > 1 {
			t.Errorf("%s described %d times: %v", name, len(at), at)
		}
	}
}

func isFamilyName(e ast.Expr) bool {
	lit, ok := e.(*ast.BasicLit)
	return ok && lit.Kind == token.STRING && strings.HasPrefix(lit.Value, `"resonance_`)
}
