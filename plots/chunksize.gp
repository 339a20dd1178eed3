# chunksize.gp: median wall time against chunksize, one panel per workload, a handful of
# lines in each (hpool's fixed chunking, the Python peers, the best other schedules),
# the model's predicted best chunksize and the measured best marked.
#
# Usage
#   gnuplot -e "datadir='results/NAME'; outbase='results/NAME/chunksize'" plots/chunksize.gp
# Inputs: datadir, outbase (writes outbase.png and outbase.svg), title (optional).
#
# Contract: reads datadir/plotdata/chunksize.dat and datadir/plotdata/chunksize_panels.dat,
# written by hpool_bench_render() (bench/render.c, bench/plotdata.c) from summary.tsv and
# model.tsv. Tab-separated; '#' lines are comments.
# chunksize.dat: one gnuplot index block per line (rows of summary.tsv that differ only
# in chunksize), blocks of one panel consecutive, blocks separated by two blank lines:
#   line 1   the line's key title in double quotes, e.g.
#            "hpool guided cpu_sum (best 8: 0.354 s)"
#   rows     chunksize  wall_min  wall_median  wall_max  best
#            sorted by chunksize; best = 0, 1 on the line's lowest wall_median, 2 on the
#            lowest wall_median of all lines (one row in the whole file)
# chunksize_panels.dat: one row per panel, in block order:
#   "panel title"  first_block  nblocks  predicted_cs  measured_best_cs  measured_best_wall
#   holds_overall_best
#   predicted_cs: the model's best fixed chunksize (0: none); measured_best: the sweep's
#   best fixed chunksize of hpool (the panel's best point when fixed was not run);
#   holds_overall_best: 1 in the panel with the row flagged 2.
# Optional: datadir/plotdata/best.dat (bench/verdict.c), a header line, then one row
#   chunksize  wall_median  resolved  "label"
# for the overall best; resolved = 1 when its lead over the runner-up is resolved
# (bench/stats.h), 0 when not, -1 when there is no runner-up.
# Drawing: log2 x axis, median line with min-max error bars, each line's best point
# circled; per panel a dashed vertical line at the predicted chunksize and a diamond on
# the measured best, both named in the panel's title. The overall best is labelled in its
# panel; with best.dat the label comes from it and the point is filled only when its lead
# is resolved.

hp_here = ""
do for [hp_i = strlen(ARG0):1:-1] { if (hp_here eq "" && ARG0[hp_i:hp_i] eq "/") { hp_here = ARG0[1:hp_i] } }
if (exists("plotsdir")) { hp_here = plotsdir."/" }
load hp_here."common.gp"

f = datadir."/plotdata/chunksize.dat"
pf = datadir."/plotdata/chunksize_panels.dat"
if (!exists("title")) { title = "wall time vs chunksize" }

# Field k of panel row i (1-based), read with awk: gnuplot has no string table reader.
panel(i, k) = system(sprintf("awk -F'\t' '!/^#/ {n++; if (n == %d) print $%d}' '%s'", i, k, pf))
npanels = int(system(sprintf("grep -vc '^#' '%s'", pf)))

stats f using 1:3 nooutput
xlo = STATS_min_x
xhi = STATS_max_x
ylo = STATS_min_y
yhi = STATS_max_y
# The predicted chunksizes widen the x range so that their marks are in view.
do for [i = 1:npanels] {
    pc = real(panel(i, 4))
    if (pc > 0 && pc < xlo) { xlo = pc }
    if (pc > 0 && pc > xhi) { xhi = pc }
}

best_label(cs, y) = sprintf("best: chunksize %g, %.3g s", cs, y)
bf = datadir."/plotdata/best.dat"
has_best = int(system("test -s '".bf."' && echo 1 || echo 0"))

cols = npanels < 3 ? npanels : 3
rows = (npanels + cols - 1) / cols
px_w = hp_max(700, cols * 520)
px_h = rows * 520 + 40

set logscale x 2
set xrange [xlo / 1.5 : xhi * 1.5]
set format x "%g"
set xlabel "chunksize (log2)"
if (ylo > 0 && yhi / ylo > 10) {
    set logscale y 10
    set ylabel "wall, median (s, log)"
    set yrange [ylo / 1.5 : yhi * 1.5]
} else {
    set ylabel "wall, median (s)"
    set yrange [0:*]
}
set key below left Left reverse samplen 2 autotitle columnheader font hp_font.",8" maxrows 4
set grid xtics ytics

do for [fmt in "png svg"] {
    eval hp_term(fmt, px_w, px_h)
    set output outbase.".".fmt
    set multiplot layout rows, cols title title
    do for [i = 1:npanels] {
        first = int(panel(i, 2))
        last = first + int(panel(i, 3)) - 1
        pc = real(panel(i, 4))
        bc = real(panel(i, 5))
        bw = real(panel(i, 6))
        here = int(panel(i, 7))
        ptitle = panel(i, 1)
        ptitle = ptitle[2:strlen(ptitle) - 1]
        if (pc > 0) {
            set title sprintf("%s\npredicted best %g, measured best %g", ptitle, pc, bc) font hp_font.",10"
            set arrow 1 from pc, graph 0 to pc, graph 1 nohead dt 2 lw 2 lc rgb "#D55E00" front
        } else {
            set title sprintf("%s\nmeasured best %g (no prediction)", ptitle, bc) font hp_font.",10"
            unset arrow 1
        }
        plot \
          for [b = first:last] f index b using 1:3:2:4 with yerrorlines lt hp_lt(b - first) lw 2 ps 0.8, \
          for [b = first:last] f index b using 1:($5 > 0 ? $3 : NaN) \
              with points pt 6 ps 2.2 lw 2 lc rgb "#222222" notitle, \
          '+' using (bc):(bw) every ::0::0 with points pt 12 ps 3 lw 2.5 lc rgb "#D55E00" \
              title "measured best (fixed)", \
          '+' using (pc > 0 ? pc : NaN):(NaN) every ::0::0 with lines dt 2 lw 2 lc rgb "#D55E00" \
              title "predicted best (model)", \
          for [b = first:last] f index b using 1:($5 > 1 && !has_best ? $3 : NaN):(best_label($1, $3)) \
              with labels offset 0, -2 font hp_font.",9" tc rgb "#222222" notitle, \
          for [j = 1:(has_best && here)] bf using 1:($3 > 0 ? $2 : NaN) \
              with points pt 7 ps 2.0 lc rgb "#222222" notitle, \
          for [j = 1:(has_best && here)] bf using 1:2:(stringcolumn(4)) \
              with labels offset 0, -2 font hp_font.",9" tc rgb "#222222" notitle
    }
    unset multiplot
    unset output
}
