package pipeline

import (
	"fmt"
	"os"

	"github.com/bouncer-dev/bouncer/classify"
)

// LoadRules reads the rules file at path (see classify.ParseRules) and
// returns a Classifier that tries them before the built-in rules. A file
// that does not parse is an error naming it, before any mail is touched.
func LoadRules(path string) (Classifier, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	defer f.Close()
	rules, err := classify.ParseRules(f)
	if err != nil {
		return nil, fmt.Errorf("rules %s: %w", path, err)
	}
	c, err := classify.New(&classify.Options{Rules: rules})
	if err != nil {
		return nil, fmt.Errorf("rules %s: %w", path, err)
	}
	return c.Classify, nil
}
