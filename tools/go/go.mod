module oomwatch/tools/go

go 1.19
