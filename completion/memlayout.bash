# SPDX-License-Identifier: MIT
# memlayout.bash - bash completion for memlayout(1), bash-completion style
# (_init_completion): the subcommands; each subcommand's options (its
# longopts in tool/cmd-*.c plus the shared ones it opts into in
# tool/getopt.c); option values: -o column names from
# `memlayout CMD --list-columns` (after the last comma of a list, or a
# leading +), --at start|exit, --method auto|scan|pread, --proc-root
# directories, files for --report/--record; the target: PIDs from /proc
# (listed with their comm when bash lists alternatives), pages' REGION
# kinds, and after "--" (or run's first word) a command and its own
# completion.  tests/completion/test_bash_completion.sh checks it against
# the built tool's --help, so a new option that is not added here fails
# the test.

# The subcommands of tool/memlayout.c's verb table.
_memlayout_verbs='show where pages run heap watch aslr demo plot explain save help'

# _memlayout_options VERB: every option of VERB (short and long).
_memlayout_options()
{
    local out='-o --output --list-columns -J --json -r --raw -n --noheadings
               -b --bytes'
    case $1 in
        show)  echo "$out -s --summary -d --diagram --mark --self --proc-root
                     --ptrace --at --no-elf --html --svg --sysroot --exe" ;;
        where) echo "$out -t --table --self --proc-root --ptrace --at
                     --no-pagemap --no-symbols --sysroot --exe" ;;
        pages) echo "$out -w --width --method --shared-with --self" ;;
        run)   echo "--report -J --json --check --sample-rate" ;;
        heap)  echo "$out -s --summary -c --classes -m --map --no-stop --self --at --html" ;;
        explain) echo "--exe --sysroot --coredump -J --json" ;;
        save)  echo "--self" ;;
        watch) echo "-i --interval -c --count --until-exit --record --detail
                     --log --html -J --json -b --bytes" ;;
        plot)  echo "-b --bytes" ;;
        demo)  echo "--html" ;;
        aslr)  echo "-c --runs --at --no-randomize -o --output --list-columns
                     -J --json -r --raw -n --noheadings -b --bytes" ;;
    esac
    echo '-h --help -V --version'
}

# _memlayout_takes_arg VERB OPTION: does OPTION of VERB take an argument
# (so the next word is its value, not the target)?
_memlayout_takes_arg()
{
    case $2 in
        -o | --output | --proc-root | --at | --exe | --sysroot) return 0 ;;
    esac
    case $1:$2 in
        show:--mark | pages:-w | pages:--width | pages:--method | \
            pages:--shared-with | run:--report | run:--check | run:--sample-rate | \
            watch:-i | watch:--interval | \
            watch:-c | watch:--count | watch:--record | aslr:-c | aslr:--runs | \
            explain:--exe | explain:--sysroot | explain:--coredump)
            return 0 ;;
    esac
    return 1
}

# _memlayout_pids [describe]: PIDs from /proc matching $cur into COMPREPLY;
# with describe, each as "PID (comm)" (for bash's list of alternatives
# only: never inserted), its control characters shown as '?'.
_memlayout_pids()
{
    local d pid comm
    COMPREPLY=()
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        [[ $pid == "$cur"* ]] || continue
        if [[ ${1-} == describe ]]; then
            comm=
            read -r comm 2>/dev/null <"$d/comm"
            COMPREPLY+=("$pid (${comm//[^[:print:]]/?})")
        else
            COMPREPLY+=("$pid")
        fi
    done
}

# A PID: bare PIDs to insert; with their comm when bash only lists the
# alternatives (COMP_TYPE '?' 63, or '!' 33 where it inserts their common
# prefix, which stays within the PIDs) and there is more than one.
_memlayout_complete_pid()
{
    _memlayout_pids
    if ((${#COMPREPLY[@]} > 1)) && [[ ${COMP_TYPE-} == 63 || ${COMP_TYPE-} == 33 ]]; then
        _memlayout_pids describe
    fi
}

# Column names of VERB for -o: the list so far stays as a prefix ("KIND,"
# or "+"), names already in it are left out.
_memlayout_complete_columns()
{
    local verb=$1 cmd=$2 word part prefix cols=()
    part=${cur##*[,+]}
    prefix=${cur%"$part"}
    while read -r word _; do
        [[ $word ]] || continue
        [[ ,${prefix#+}, == *",$word,"* ]] && continue
        cols+=("$word")
    done < <(LC_ALL=C "$cmd" "$verb" --list-columns 2>/dev/null)
    compopt -o nospace
    COMPREPLY=($(compgen -P "$prefix" -W "${cols[*]}" -- "$part"))
}

# The value of option $prev of VERB; returns 1 if it takes none.
_memlayout_complete_value()
{
    local verb=$1 cmd=$2
    _memlayout_takes_arg "$verb" "$prev" || return 1
    case $prev in
        -o | --output) _memlayout_complete_columns "$verb" "$cmd" ;;
        --at) COMPREPLY=($(compgen -W 'start exit' -- "$cur")) ;;
        --method) COMPREPLY=($(compgen -W 'auto scan pread' -- "$cur")) ;;
        --proc-root) _filedir -d ;;
        --shared-with) _memlayout_complete_pid ;;
        --report | --record | --exe) _filedir ;;
        --sysroot) _filedir -d ;;
        --check) COMPREPLY=($(compgen -W 'heap heap,leaks' -- "$cur")) ;;
        *) COMPREPLY=() ;;   # a number, an address: nothing to offer
    esac
    return 0
}

# The words of VERB after its options: $1 the verb, $2 the index in
# words[] of the first word after the verb.  Sets nwords (words that are
# not options or their values) and dashdash (index of "--", or 0).
_memlayout_scan()
{
    local verb=$1 i=$2
    nwords=0 dashdash=0 self=0
    for ((; i < cword; i++)); do
        case ${words[i]} in
            --) dashdash=$i; return ;;
            --self) self=1 ;;
            --*=*) ;;
            -*) _memlayout_takes_arg "$verb" "${words[i]}" && ((i++)) ;;
            *)
                ((nwords++))
                # run: the first word that is not an option starts the command
                [[ $verb == run ]] && { dashdash=$((i - 1)); return; }
                ;;
        esac
    done
}

_memlayout()
{
    local cur prev words cword split
    _init_completion -s || return

    if ((cword == 1)); then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W '-h --help -V --version' -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$_memlayout_verbs" -- "$cur"))
        fi
        return
    fi

    local verb=${words[1]} cmd=${words[0]} nwords dashdash self
    [[ " $_memlayout_verbs " == *" $verb "* ]] || return
    [[ $verb == demo ]] && return

    _memlayout_scan "$verb" 2
    if ((dashdash)); then
        _command_offset $((dashdash + 1))
        return
    fi
    _memlayout_complete_value "$verb" "$cmd" && return
    $split && return

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_memlayout_options "$verb") --" -- "$cur"))
        [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
        return
    fi

    # The target and operands, by position among the words.
    case $verb:$self:$nwords in
        show:0:0 | where:0:0 | pages:0:0 | heap:0:0 | watch:0:0)
            _memlayout_complete_pid ;;
        pages:0:1 | pages:1:0)
            COMPREPLY=($(compgen -W 'text rodata relro data bss heap stack
                thread-stack guard reserved anon file shm vdso vvar vsyscall' \
                -- "$cur")) ;;
        run:*)
            _command_offset "$cword" ;;
        plot:*:0)
            _filedir ;;
        explain:*:0)
            _filedir ;;
        save:0:0)
            _memlayout_complete_pid ;;
        save:0:1 | save:1:0)
            _filedir -d ;;
        help:*:0)
            COMPREPLY=($(compgen -W "${_memlayout_verbs% help}" -- "$cur")) ;;
    esac
}
complete -F _memlayout memlayout

# ex: filetype=sh
