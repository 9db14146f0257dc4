" Vim syntax file for dockpol policies (.dpol).
" Install: copy syntax/ and ftdetect/ into ~/.vim (or a pack/*/start/dpol/ folder).
if exists("b:current_syntax")
  finish
endif

syn keyword dpolStatement default let rule
syn match   dpolStatement "^owner\s\+label\>"
syn match   dpolStatement "^safe\s\+host\s\+paths\>"
syn match   dpolStatement "^safe\s\+volume\s\+drivers\>"
syn keyword dpolEffect allow deny own if
syn keyword dpolOperator and or not in matches covers any all
syn keyword dpolBoolean true false
syn match   dpolRuleName "\(^rule\s\+\)\@<=[A-Za-z_][A-Za-z0-9_]*"
syn match   dpolComparison "==\|!=\|<=\|>=\|<\|>\|="
syn match   dpolNumber "\<-\?[0-9]\+\(\.[0-9]\+\)\?\>"
syn match   dpolEscape contained "\\[\"\\nt]"
syn region  dpolString start=+"+ skip=+\\\\\|\\"+ end=+"\|$+ contains=dpolEscape
syn match   dpolComment "#.*$" contains=@Spell

hi def link dpolStatement  Statement
hi def link dpolEffect     Keyword
hi def link dpolOperator   Operator
hi def link dpolBoolean    Boolean
hi def link dpolRuleName   Function
hi def link dpolComparison Operator
hi def link dpolNumber     Number
hi def link dpolEscape     SpecialChar
hi def link dpolString     String
hi def link dpolComment    Comment

let b:current_syntax = "dpol"
