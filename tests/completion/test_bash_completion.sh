#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_bash_completion.sh - completion/memlayout.bash under bash-completion's
# own framework: COMP_WORDS/COMP_CWORD/COMP_LINE set as bash sets them, the
# function called, COMPREPLY compared.  Checks subcommands, options,
# -o column names (one, after a comma, after +), --at, --method,
# --proc-root directories, per-verb option arguments (aslr -c takes one,
# show -n does not), a PID this test starts (with its comm when bash
# lists alternatives), commands after -- and after run; and that every
# option each subcommand's --help lists is offered, and nothing more.
#
# Usage: test_bash_completion.sh MEMLAYOUT COMPLETION-SCRIPT
# Skips (77) where bash-completion is not installed.
set -u

memlayout=$1
script=$2
framework=/usr/share/bash-completion/bash_completion

if [[ ! -r $framework ]]; then
    echo "SKIP: bash-completion is not installed ($framework)"
    exit 77
fi
# shellcheck disable=SC1090
source "$framework"
# shellcheck disable=SC1090
source "$script" || { echo "not ok - cannot source $script"; exit 1; }

# The tool as users type it: "memlayout" found in PATH.
bindir=$(mktemp -d)
tmp=$(mktemp -d)
sleeper=
trap 'rm -rf "$bindir" "$tmp"; [[ $sleeper ]] && kill "$sleeper" 2>/dev/null' EXIT
ln -s "$(realpath "$memlayout")" "$bindir/memlayout"
PATH=$bindir:$PATH

failed=0 total=0

# complete [TYPE] WORD...: COMPREPLY for the command line WORD... with the
# cursor at the end of the last word (an empty last word: after a space).
# TYPE is COMP_TYPE (9: TAB, 63: listing alternatives), 9 if omitted.
complete_line()
{
    local type=9
    [[ $1 =~ ^[0-9]+$ ]] && { type=$1; shift; }
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMP_TYPE=$type
    COMPREPLY=()
    _memlayout memlayout "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
    # sorted, one a line, for comparing
    reply=$(printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort -u | sed '/^$/d')
}

check()
{
    total=$((total + 1))
    if [[ $1 == ok ]]; then
        echo "ok $total - $2"
    else
        echo "not ok $total - $2"
        printf '  got: %s\n' "$(echo "$reply" | tr '\n' ' ')"
        [[ ${3-} ]] && printf '  expected: %s\n' "$3"
        failed=$((failed + 1))
    fi
}

# expect "EXPECTED WORDS" WORD...: the reply is exactly that set.
expect()
{
    local want
    want=$(printf '%s\n' $1 | LC_ALL=C sort -u)
    shift
    complete_line "$@"
    [[ $reply == "$want" ]] && check ok "'$*'" || check fail "'$*'" "$(echo $want)"
}

# expect_has WORD WORD...: the reply holds WORD (a whole entry).
expect_has()
{
    local want=$1
    shift
    complete_line "$@"
    grep -qxF -- "$want" <<<"$reply" && check ok "'$*' offers '$want'" \
        || check fail "'$*' offers '$want'" "$want among them"
}

# expect_lacks WORD WORD...: the reply does not hold WORD.
expect_lacks()
{
    local unwanted=$1
    shift
    complete_line "$@"
    ! grep -qxF -- "$unwanted" <<<"$reply" && check ok "'$*' does not offer '$unwanted'" \
        || check fail "'$*' does not offer '$unwanted'"
}

# Subcommands: those of `memlayout --help`, no more, no fewer.
verbs=$("$memlayout" --help | sed -n '/^Commands:/,/^$/s/^ \([a-z]*\) .*/\1/p')
[[ $verbs ]] || { echo "not ok - no commands in memlayout --help"; exit 1; }
expect "$verbs" memlayout ''
expect "show" memlayout sh
expect "--help --version" memlayout --

# Options.
expect "--output" memlayout show --ou
expect "--no-elf --noheadings" memlayout show --no
expect "--runs" memlayout aslr --ru
expect "--method" memlayout pages --me

# Column names from --list-columns: one, after a comma, after +.
expect "START" memlayout show -o STA
expect "START" memlayout show --output STA
expect "KIND,SIZE" memlayout show -o KIND,SI
expect "KIND,SECTIONS KIND,SIZE KIND,SHARED_CLEAN KIND,SHARED_DIRTY KIND,START KIND,SWAP KIND,SWAP_PSS" \
    memlayout show -o KIND,S
expect_has "+RSS,PSS" memlayout show -o +RSS,P
expect_lacks "+RSS,RSS" memlayout show -o +RSS,
expect_lacks "START,START" memlayout show -o START,
expect_has "ADDR" memlayout where -o ''
expect_has "BAR" memlayout pages -o ''

# Values of options.
expect "auto scan pread" memlayout pages --method ''
expect "scan" memlayout pages --method s
expect "start exit" memlayout show --at ''
expect "exit" memlayout heap --at e
mkdir "$tmp/dir-a" && : >"$tmp/file-b"
expect "$tmp/dir-a" memlayout show --proc-root "$tmp/"
expect "" memlayout aslr -c ''          # aslr: -c is --runs N
expect "" memlayout watch -c ''         # watch: -c is --count N

# A PID of a process started here, bare on TAB; with its comm when bash
# lists the alternatives.
sleep 60 &
sleeper=$!
expect_has "$sleeper" memlayout show "$sleeper"
expect_has "$sleeper" memlayout show -n ''        # show: -n is a flag
expect_has "$sleeper" memlayout heap -c ''        # heap: -c is a flag
expect_has "$sleeper" memlayout pages --shared-with ''
expect_has "$sleeper" memlayout show -o KIND ''
expect_has "$sleeper (sleep)" 63 memlayout show ''
expect_lacks "$sleeper (sleep)" 9 memlayout show ''
expect_lacks "$sleeper" memlayout show "$sleeper" ''   # one PID only
# pages: the REGION after the PID
expect "heap" memlayout pages "$sleeper" hea
expect "heap" memlayout pages --self hea

# Commands: after --, and run's first word.
expect_has "sleep" memlayout show -- slee
expect_has "sleep" memlayout run slee
expect_has "sleep" memlayout run -J slee
expect_has "sleep" memlayout aslr -c 10 -- slee

# Every option of each subcommand's --help (short and long), and only those.
for verb in $verbs; do
    [[ $verb == demo ]] && continue
    # the option column only: " -o, --output <list>  ...", "     --self  ..."
    help=$("$memlayout" "$verb" --help |
        sed -nE 's/^ +(-[a-zA-Z])?(, )?(--[a-z][a-z-]*)?.*/\1 \3/p' | tr ' ' '\n' | sed '/^$/d')
    want=$( (echo "$help"; echo --) | LC_ALL=C sort -u)
    complete_line memlayout "$verb" -
    [[ $reply == "$want" ]] && check ok "$verb: the options of its --help" \
        || check fail "$verb: the options of its --help" "$(echo $want)"
done

echo "completion: $((total - failed)) passed, $failed failed"
((failed == 0))
