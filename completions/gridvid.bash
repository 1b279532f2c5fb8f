# bash completion for gridvid(1)                          -*- shell-script -*-
# Installed as share/bash-completion/completions/gridvid. The flags follow
# `gridvid --help`; tests/test_docs.sh checks that none is missing.
# Works with bash 3.2 (macOS) as well: no mapfile.
# shellcheck disable=SC2207

_gridvid()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local prefix=

    # bash splits "--fps=25" at '=' (COMP_WORDBREAKS): "--fps" "=" "25".
    if [[ $cur == = ]]; then
        cur=
    elif [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    elif [[ $cur == --*=* ]]; then
        # '=' is not a word break here: complete the value after it
        prev=${cur%%=*}
        prefix=${cur%%=*}=
        cur=${cur#*=}
    fi
    [[ $prev == = && $COMP_CWORD -ge 2 ]] && prev=${COMP_WORDS[COMP_CWORD - 2]}

    local values=
    case $prev in
    -o | --output)
        _gridvid_files '@(mp4|mov|mkv|webm|MP4|MOV|MKV|WEBM)' "$prefix"
        return ;;
    --preview)
        _gridvid_files '@(png|PNG)' "$prefix"
        return ;;
    --audio | --logo | --env-file)
        _gridvid_files '' "$prefix"
        return ;;
    --temp-dir)
        _gridvid_dirs "$prefix"
        return ;;
    --size) values='720p 1080p 1440p 4k 2160p reel square 1920x1080 1080x1920' ;;
    --layout) values='rows columns' ;;
    --crop) values='center top bottom left right attention entropy' ;;
    --direction) values='left right alternate up down' ;;
    --easing) values='linear ease-in-out ease-in ease-out' ;;
    --order) values='name mtime shuffle shuffle: given' ;;
    --codec) values='auto h264 hevc h265 av1 prores vp9 webp gif' ;;
    --encoder)
        values='auto libx264 libx265 libsvtav1 libaom-av1 prores_ks libvpx-vp9
            h264_videotoolbox hevc_videotoolbox prores_videotoolbox
            h264_nvenc hevc_nvenc av1_nvenc h264_vaapi hevc_vaapi av1_vaapi vp9_vaapi
            h264_qsv hevc_qsv av1_qsv vp9_qsv' ;;
    --preset) values='ultrafast superfast veryfast faster fast medium slow slower veryslow' ;;
    --gpu | --gpu-decode) values='auto true false require' ;;
    --clip-loop) values='loop bounce hold' ;;
    --clip-start) values='visible zero' ;;
    --live-photos) values='play still' ;;
    --camera) values='none tilted floor side' ;;
    --font) values='Sans Serif Monospace' ;;
    --text-style) values='plate shadow none' ;;
    --caption) values='none filename date exif: sidecar' ;;
    --logo-position) values='top-left top-right bottom-left bottom-right center' ;;
    --beat-sync) values='off steps pulse' ;;
    --gpu-device) values='llvmpipe' ;;
    --memory-limit) values='auto' ;;
    --videotoolbox | --stream) values='true false' ;;
    --progress) values='auto none plain json' ;;
    --background)
        values='transparent black white gray grey silver red green lime blue navy yellow cyan
            aqua magenta fuchsia orange purple pink brown maroon olive teal' ;;
    --text-color)
        values='black white gray grey silver red green lime blue navy yellow cyan aqua
            magenta fuchsia orange purple pink brown maroon olive teal' ;;
    --fps) values='24 25 30 50 60 30000/1001 60000/1001' ;;
    --aspect) values='1:1 4:5 3:4 2:3 16:9 9:16' ;;
    --width | --height | --duration | --rows | --aspect-ratio-w | --aspect-ratio-h | \
        --tile-height | --gap | --speed | --motion-blur | --max-pixels | --crf | \
        --ken-burns | --tilt | --turn | --fov | --distance | --depth-fade | \
        --title-duration | --title-size | --caption-size | --logo-size | \
        --bitrate | --gpu-memory | --threads | --batch | --at)
        return ;; # a number: nothing to offer
    esac
    if [[ -n $values ]]; then
        local IFS=$'\n'
        COMPREPLY=($(IFS=$' \t\n' compgen -P "$prefix" -W "$values" -- "$cur"))
        [[ ${COMPREPLY[0]-} == *: ]] && compopt -o nospace 2>/dev/null
        return
    fi

    if [[ $cur == -* ]]; then
        local flags='-o --output --size --width --height --fps --duration --layout --rows
            --aspect --aspect-ratio-w --aspect-ratio-h --tile-height --crop --gap
            --background --direction --easing --speed --motion-blur --order --recursive
            --strict --max-pixels --clip-loop --clip-start --live-photos --ken-burns --camera
            --tilt --turn --fov --distance --depth-fade --title --subtitle --title-duration
            --font --title-size --text-color --text-style --caption --caption-size --logo
            --logo-position --logo-size --beat-sync --codec --encoder --crf --preset --bitrate --audio
            --videotoolbox --gpu --gpu-decode --gpu-device --gpu-memory --memory-limit
            --threads --batch --stream --temp-dir --preview --at --demo --env-file --progress --dry-run -q --quiet
            -v --verbose -h --help --version --'
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
        return
    fi
    # INPUTs: directories and images
    _gridvid_files '' ''
}

# Files (only those matching an extglob pattern, when one is given) and
# directories. Uses bash-completion's _filedir when it is loaded.
_gridvid_files()
{
    local pattern=$1 prefix=$2
    if [[ -z $prefix ]] && declare -F _filedir >/dev/null; then
        if [[ -n $pattern ]]; then _filedir "$pattern"; else _filedir; fi
        return
    fi
    local IFS=$'\n' f
    compopt -o filenames 2>/dev/null
    COMPREPLY=()
    for f in $(compgen -f -- "$cur"); do
        # [[ == ]] matches extglob patterns whatever the shell option says
        if [[ -z $pattern || -d $f || $f == *.$pattern ]]; then
            COMPREPLY+=("$prefix$f")
        fi
    done
}

_gridvid_dirs()
{
    local prefix=$1
    if [[ -z $prefix ]] && declare -F _filedir >/dev/null; then
        _filedir -d
        return
    fi
    local IFS=$'\n'
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -P "$prefix" -d -- "$cur"))
}

complete -F _gridvid gridvid
