" Used by test_editors.py: sources the syntax file given in g:syn, finds each text of
" g:probes in the buffer and writes "TEXT<TAB>SYNTAX-GROUP" per probe to g:out.
set nocompatible
syntax on
execute 'source ' . g:syn
let s:lines = []
for s:pat in g:probes
  call cursor(1, 1)
  let s:pos = searchpos('\V' . s:pat, 'cW')
  call add(s:lines, s:pat . "\t" . synIDattr(synID(s:pos[0], s:pos[1], 1), 'name'))
endfor
call writefile(s:lines, g:out)
qa!
