package dsn

func templateKinds() []kindCase { return nil }
