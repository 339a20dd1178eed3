# timeline.gp: Gantt chart of one run, one lane per worker rank, like the classic
# ProcessPoolExecutor timeline pictures.
#
# Usage
#   gnuplot -e "datadir='results/NAME'; outbase='results/NAME/timeline'; run=0" plots/timeline.gp
# Inputs (all optional but datadir/outbase):
#   datadir   directory holding chunks.tsv (required) and spans.tsv (optional)
#   outbase   output path without extension; writes outbase.png and outbase.svg
#   run       run id to draw (default: the first run id in chunks.tsv)
#   title     plot title (default "run N")
#   workers   number of worker ranks: lanes 1..workers are drawn even when a rank got no
#             chunk (default: the ranks seen in chunks.tsv for this run)
#   spans     1: draw per-thread sub-lanes from spans.tsv, 0: don't (default: 1 when
#             spans.tsv has rows for this run; the check runs awk)
# Contract: the raw files of docs/FORMATS.md, read by column *name* (first line is the
# header), lines starting with '#' ignored. The run must have at least one chunk row.
#
# Drawing
#   box      chunk from t_start to t_end on its worker's lane, coloured by chunk id
#            (10-colour cycle), chunk id printed inside when there is room
#   line     thin line just above the box from t_dispatch (dot) to t_start, in the
#            chunk's colour: dispatch→start latency (time in the transport and in the
#            worker's local queue); three rows by chunk id so concurrent ones stay apart
#   red x    at t_end of a chunk whose status is non-zero
#   spans    with spans: under each "rank N" lane one "rank N.thread T" sub-lane per
#            OpenMP thread, a box per inner item from t_start to t_end in its chunk's colour
# x = seconds from the start of the run (rank 0's clock), rank 1 at the top.

hp_here = ""
do for [hp_i = strlen(ARG0):1:-1] { if (hp_here eq "" && ARG0[hp_i:hp_i] eq "/") { hp_here = ARG0[1:hp_i] } }
if (exists("plotsdir")) { hp_here = plotsdir."/" }
load hp_here."common.gp"

chunks = datadir."/chunks.tsv"
spansf = datadir."/spans.tsv"
set datafile columnheaders

if (!exists("run")) {
    stats chunks using (column("run")) every ::0::0 nooutput
    run = int(STATS_min)
}
if (!exists("title")) { title = sprintf("run %d", run) }
if (!exists("spans")) {
    spans = int(system(sprintf("awk -F'\t' '$1==\"%d\"{n++} END{print n+0}' '%s' 2>/dev/null", run, spansf)) > 0)
}

inrun(v) = (int(column("run")) == run) ? v : NaN

stats chunks using (inrun(column("worker"))) name "W" nooutput
stats chunks using (inrun(hp_max(column("t_end"), column("t_result")))) name "T" nooutput
nchunks = W_records
stats chunks using (inrun(int(column("status")) != 0 ? 1 : 0)) name "F" nooutput
nfailed = int(F_sum)
if (exists("workers")) { rmin = 1; rmax = hp_max(int(workers), int(W_max)) } \
else { rmin = int(W_min); rmax = int(W_max) }
tmax = T_max > 0 ? T_max : 1

nthreads = 0
if (spans) {
    stats spansf using (inrun(column("thread"))) name "S" nooutput
    nthreads = int(S_max) + 1
    stats spansf using (inrun(column("t_end"))) name "SE" nooutput
    tmax = hp_max(tmax, SE_max)
}

# Lane geometry: rank r owns a band of `band` units; sub 0 is the chunk lane, sub t+1 the
# lane of thread t; half a unit of gap separates bands.
band = spans ? nthreads + 1.5 : 1
ly(r, sub) = (r - rmin) * band + sub
nlanes = (rmax - rmin + 1) * (spans ? nthreads + 1 : 1)
ytop = -0.7
ybot = ly(rmax, spans ? nthreads : 0) + 0.7

set ytics () nomirror scale 0
do for [r = rmin:rmax] {
    set ytics add (sprintf("rank %d", r) ly(r, 0))
    if (spans) {
        do for [t = 0:nthreads-1] {
            set ytics add (sprintf("rank %d.thread %d", r, t) ly(r, t + 1))
        }
    }
}
set yrange [ybot:ytop]
set xrange [0:tmax * 1.02]
set xlabel "seconds from run start"
set title title
set grid xtics noytics
set key at screen 0.5, screen 0.01 center bottom horizontal samplen 2 width 2
set bmargin 5
set style fill solid 0.9 border lc rgb "#333333"
set offsets 0, 0, 0, 0

# Box half-heights: the chunk box leaves room above it for the latency line.
hb = 0.32
hs = 0.36
# Latency lines sit in the gap above the box, on one of three rows by chunk id, so the
# lines of chunks in flight at the same time (prefetch) stay apart.
lat_y(r, c) = ly(r, 0) - 0.365 - 0.045 * (int(c) % 3)
# Chunk ids are printed only when a lane holds few enough boxes to read them.
label_ok(w) = (nchunks <= 25 * (rmax - rmin + 1) && w > tmax / 90.0)

# The spans element is spliced in as a macro: macros expand when the loop below is parsed,
# so it is fixed here, and a run without spans never names spans.tsv.
spanplot = ""
if (spans) {
    spanplot = ", spansf using (inrun((column(\"t_start\") + column(\"t_end\")) / 2)):(ly(column(\"rank\"), column(\"thread\") + 1)):(column(\"t_start\")):(column(\"t_end\")):(ly(column(\"rank\"), column(\"thread\") + 1) - hs):(ly(column(\"rank\"), column(\"thread\") + 1) + hs):(hp_lt(column(\"chunk\"))) with boxxyerror lc variable fs solid 0.6 border lc rgb \"#555555\" title \"inner item (thread)\""
}

px_w = 1200
px_h = hp_min(6000, hp_max(320, 150 + nlanes * (spans ? 30 : 40)))

do for [fmt in "png svg"] {
    eval hp_term(fmt, px_w, px_h)
    set output outbase.".".fmt
    plot \
      chunks using (inrun((column("t_start") + column("t_end")) / 2)):(ly(column("worker"), 0)):(column("t_start")):(column("t_end")):(ly(column("worker"), 0) - hb):(ly(column("worker"), 0) + hb):(hp_lt(column("chunk"))) \
          with boxxyerror lc variable title "chunk: t_start → t_end", \
      chunks using (inrun(column("t_dispatch"))):(lat_y(column("worker"), column("chunk"))):(column("t_start") - column("t_dispatch")):(0):(hp_lt(column("chunk"))) \
          with vectors nohead lw 1.5 lc variable title "dispatch → start", \
      chunks using (inrun(column("t_dispatch"))):(lat_y(column("worker"), column("chunk"))):(hp_lt(column("chunk"))) \
          with points pt 7 ps 0.35 lc variable notitle, \
      chunks using (inrun(label_ok(column("t_end") - column("t_start")) ? (column("t_start") + column("t_end")) / 2 : NaN)):(ly(column("worker"), 0)):(sprintf("%d", int(column("chunk")))) \
          with labels font hp_font.",8" tc rgb "black" notitle, \
      chunks using (inrun(int(column("status")) != 0 ? column("t_end") : NaN)):(ly(column("worker"), 0)) \
          with points pt 2 ps 1.6 lw 2.5 lc rgb "#D00000" title (nfailed > 0 ? "failed chunk" : "") \
      @spanplot
    unset output
}
