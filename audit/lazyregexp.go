package audit

import (
	"regexp"
	"sync"
)

// lazyRegexp is a default rule's expression, compiled the first time a
// string holds one of the rule's keywords. Most processes meet a few
// credential families only, and a compiled program is pointer-rich heap
// that the garbage collector scans in every cycle: compiling all of them
// up front kept about 180 KiB live per Redactor.
type lazyRegexp struct {
	src  string
	once sync.Once
	re   *regexp.Regexp
}

// get compiles the expression once; the sources are constants that a test
// compiles (TestDefaultRuleExpressionsCompile), so MustCompile cannot fail
// at run time.
func (l *lazyRegexp) get() *regexp.Regexp {
	l.once.Do(func() { l.re = regexp.MustCompile(l.src) })
	return l.re
}

// regexp is the rule's expression: a Pattern's own, or the default rule's,
// compiled on first use.
func (ru *rule) regexp() *regexp.Regexp {
	if ru.re != nil {
		return ru.re
	}
	return ru.lazy.get()
}
