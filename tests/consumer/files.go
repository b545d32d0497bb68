package consumer

import (
	"fmt"
	"regexp"
)

var fileNameRE = regexp.MustCompile(`^[a-z0-9_]+\.go$`)

// ConsumerFiles returns the blocks marked <!-- consumer: FILE --> as the
// files of the consumer module, in order. A file name must be a plain
// lower-case .go name and appear once.
func ConsumerFiles(blocks []Block) ([]Block, error) {
	var files []Block
	seen := map[string]string{}
	for _, b := range blocks {
		if b.Kind != "consumer" {
			continue
		}
		if !fileNameRE.MatchString(b.Arg) {
			return nil, fmt.Errorf("%s: <!-- consumer: %s -->: want a file name such as main.go", b.Name(), b.Arg)
		}
		if prev, ok := seen[b.Arg]; ok {
			return nil, fmt.Errorf("%s: <!-- consumer: %s --> again (first at %s)", b.Name(), b.Arg, prev)
		}
		seen[b.Arg] = b.Name()
		files = append(files, b)
	}
	return files, nil
}
