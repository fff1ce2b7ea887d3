package export

// SetBeforePublish makes o run f between the file's last write and its
// rename into place (tests: a kill there).
func SetBeforePublish(o *Options, f func()) { o.beforePublish = f }
