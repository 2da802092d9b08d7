module github.com/wagent/wagent

go 1.24
