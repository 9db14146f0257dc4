" dockpol policy files
autocmd BufRead,BufNewFile *.dpol setfiletype dpol
