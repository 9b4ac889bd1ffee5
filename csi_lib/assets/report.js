/* csi-workbook report pages on a phone (a window 600 px wide or less, e.g. 390 px):
 * - a table wider than its box becomes a list of cards: each row a card, each cell a line
 *   "column: value" (the column's header written into the cell as data-label), so nothing
 *   is off-screen and nothing scrolls sideways;
 * - every chart is laid out again for the width: its title wrapped (never cut), its legend
 *   below the plot (never over the title), long category labels wrapped, subplot titles
 *   smaller, dates along x level and fewer (never on their side into the panel below), a
 *   note under a chart wrapped downwards below the axis labels, a Sankey's nodes named by
 *   their ids.
 * Wider windows and print are left as they are (print has its own rules: report.css, pdf.py).
 */
(function () {
  'use strict';
  var PHONE = 600;
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };

  /* ---- tables ---- */
  function headers(table) {
    var head = table.tHead;
    if (!head || !head.rows.length) { return null; }
    var row = head.rows[head.rows.length - 1], names = [];
    each(row.cells, function (cell) {
      for (var i = 0; i < (cell.colSpan || 1); i++) { names.push(cell.innerText.trim()); }
    });
    return names;
  }
  function labelCells(table) {
    var names = headers(table);
    if (!names) { return false; }
    each(table.tBodies, function (body) {
      each(body.rows, function (row) {
        var col = 0;
        each(row.cells, function (cell) {
          if (names[col] && !cell.hasAttribute('data-label')) { cell.setAttribute('data-label', names[col]); }
          col += cell.colSpan || 1;
          colourValue(cell);
        });
      });
    });
    return true;
  }
  /* a coloured cell (a verdict) keeps its colour on its value, not under its label */
  function colourValue(cell) {
    if (cell.dataset.csiValue) { return; }
    var cs = getComputedStyle(cell), bg = cs.backgroundColor, row = getComputedStyle(cell.parentElement);
    if (!bg || /rgba\(0, 0, 0, 0\)|transparent/.test(bg) || bg === row.backgroundColor) { return; }
    var span = document.createElement('span');
    span.className = 'csi-cell-value';
    while (cell.firstChild) { span.appendChild(cell.firstChild); }
    span.style.backgroundColor = bg;
    span.style.color = cs.color;
    cell.appendChild(span);
    cell.dataset.csiValue = '1';
  }
  function fitTables() {
    var narrow = window.innerWidth <= PHONE;
    each(document.querySelectorAll('main table, .jp-Notebook table'), function (table) {
      table.classList.remove('csi-stack');
      if (!narrow) { return; }
      var box = table.parentElement, room = box ? box.clientWidth : window.innerWidth;
      if (table.scrollWidth > room + 1 && labelCells(table)) { table.classList.add('csi-stack'); }
    });
  }

  /* ---- charts ---- */
  function wrap(text, width) {
    var words = String(text).split(/\s+/), lines = [], line = '';
    words.forEach(function (word) {
      if (line && (line + ' ' + word).length > width) { lines.push(line); line = word; }
      else { line = line ? line + ' ' + word : word; }
    });
    if (line) { lines.push(line); }
    return lines.join('<br>');
  }
  function titleText(layout) {
    var t = layout.title;
    return typeof t === 'string' ? t : (t && t.text) || '';
  }
  /* the panels of a grid of subplots (several columns) put in one column; returns the new height */
  function oneColumn(layout, update, height) {
    var cells = Object.keys(layout).filter(function (k) {
      return /^xaxis\d*$/.test(k) && layout[k].domain && layout[k].anchor;
    }).map(function (k) {
      var ax = layout[k], yk = 'yaxis' + (ax.anchor === 'y' ? '' : ax.anchor.slice(1));
      return layout[yk] && layout[yk].domain ? {x: k, y: yk, xd: ax.domain, yd: layout[yk].domain} : null;
    }).filter(Boolean);
    var columns = {};
    cells.forEach(function (c) { columns[c.xd[0].toFixed(2)] = true; });
    if (Object.keys(columns).length < 2) { return height; }
    cells.sort(function (a, b) { return (b.yd[1] - a.yd[1]) || (a.xd[0] - b.xd[0]); });
    var panel = 190, gap = 80, total = cells.length * panel + (cells.length - 1) * gap;
    var used = {};
    cells.forEach(function (c, i) {
      var top = 1 - i * (panel + gap) / total, bottom = top - panel / total;
      (layout.annotations || []).forEach(function (a, j) {  // the panel's title
        if (used[j] || a.xref !== 'paper' || a.yref !== 'paper') { return; }
        if (Math.abs(a.x - (c.xd[0] + c.xd[1]) / 2) < 0.03 && Math.abs(a.y - c.yd[1]) < 0.06) {
          used[j] = true;
          update['annotations[' + j + '].x'] = 0.5;
          update['annotations[' + j + '].y'] = top;
        }
      });
      update[c.x + '.domain'] = [0, 1];
      update[c.y + '.domain'] = [Math.max(0, bottom), Math.min(1, top)];
    });
    var m = layout.margin || {};
    return total + (m.t || 80) + (m.b || 80);
  }

  /* an x axis title longer than its plot is wide: wrapped, the chart grown below for it
     (after the first relayout, when the plot's width with its wrapped labels is known) */
  function fitAxisTitles(el, width) {
    var layout = el.layout, update = {}, extra = 0;
    Object.keys(layout).filter(function (k) { return /^xaxis\d*$/.test(k); }).forEach(function (k) {
      var t = layout[k].title, text = typeof t === 'string' ? t : (t && t.text) || '';
      var full = el._fullLayout && el._fullLayout[k], room = (full && full._length) || width - 60;
      if (!text || text.indexOf('<br>') >= 0 || text.length * 7.5 < room) { return; }
      var wrapped = wrap(text, Math.max(14, Math.floor(room / 7.5)));
      update[k + '.title.text'] = wrapped;
      extra = Math.max(extra, 18 * (wrapped.split('<br>').length - 1));
    });
    if (!extra) { return null; }
    update['margin.b'] = ((layout.margin && layout.margin.b) || 80) + extra;
    update.height = (layout.height || el.getBoundingClientRect().height) + extra;
    el.style.height = update.height + 'px';
    if (el.parentElement && el.parentElement.style.height) { el.parentElement.style.height = update.height + 'px'; }
    return window.Plotly.relayout(el, update);
  }

  function fitChart(el) {
    if (el.dataset.csiPhone) { return el.csiPhoneDone || null; }  // laid out, or being laid out
    if (!el.layout || !el.data) { return null; }
    el.dataset.csiPhone = '1';
    var width = el.getBoundingClientRect().width || window.innerWidth;
    var layout = el.layout, update = {}, height = layout.height || el.getBoundingClientRect().height;
    var perLine = Math.max(18, Math.floor((width - 24) / 8.5));
    var title = titleText(layout).replace(/<br>/g, ' ');
    if (title) {
      update['title.text'] = wrap(title, perLine);
      update['title.font.size'] = 15;
      update['title.x'] = 0.02;
      update['title.xanchor'] = 'left';
      update['title.yref'] = 'container';
      update['title.y'] = 1;
      update['title.yanchor'] = 'top';
      // plotly sets a title anchored at its top about 14 px too high: the padding makes up for it
      update['title.pad'] = {t: 22};
      var lines = update['title.text'].split('<br>').length;
      // room for the title's lines, and for a subplot title above the first panel
      var above = (layout.annotations || []).some(function (a) {
        return a.yref === 'paper' && a.y >= 0.98 && a.showarrow === false;
      });
      var top = 30 + 20 * lines + (above ? 28 : 8);
      var before = (layout.margin && layout.margin.t) || 0;
      update['margin.t'] = Math.max(before, top);
      height += Math.max(0, top - before);
    }
    var shown = el.data.filter(function (tr) { return tr.showlegend !== false && tr.name && tr.type !== 'sankey'; });
    if (layout.showlegend !== false && shown.length > 1) {
      update['legend.orientation'] = 'h';
      update['legend.xref'] = 'container';
      update['legend.x'] = 0;
      update['legend.xanchor'] = 'left';
      update['legend.yref'] = 'container';
      update['legend.y'] = 0;
      update['legend.yanchor'] = 'bottom';
      update['legend.font.size'] = 12;
      var rows = Math.ceil(shown.length / 2);
      update['margin.b'] = Math.max((layout.margin && layout.margin.b) || 0, 60 + 22 * rows);
      height += 22 * rows;
    }
    // small multiples side by side: one column, each panel the whole width, its title above it
    height = oneColumn(layout, update, height);
    // dates along x: level and fewer, so that they neither turn on their side nor reach the
    // title of the panel below ("Jan 2025" is about 60 px wide)
    Object.keys(layout).filter(function (k) { return /^xaxis\d*$/.test(k); }).forEach(function (k) {
      var full = el._fullLayout && el._fullLayout[k];
      if (!full || full.type !== 'date' || layout[k].tickmode === 'array') { return; }
      update[k + '.tickangle'] = 0;
      update[k + '.nticks'] = Math.max(3, Math.floor((width - 80) / 55));
    });
    var below = 0;  // room a note under the plot needs once wrapped (px below the plot area)
    (layout.annotations || []).forEach(function (a, i) {
      if (!a.text || a.showarrow !== false || a.xref !== 'paper') { return; }
      var plain = String(a.text).replace(/<br>/g, ' ');
      var text = wrap(plain, Math.max(18, Math.floor(width / 7.5)));
      update['annotations[' + i + '].text'] = text;
      update['annotations[' + i + '].font.size'] = 13;
      if (a.yref === 'paper' && a.y <= 0) {
        // a note under the chart grows downwards, below the axis labels, never up into them
        var shift = Math.abs(a.yshift || 0) + (a.y < 0 ? Math.abs(a.y) * (height - 120) : 0);
        update['annotations[' + i + '].yanchor'] = 'top';
        below = Math.max(below, shift + 17 * text.split('<br>').length + 10);
      }
    });
    if (below) {
      var legendRoom = update['legend.orientation'] ? 22 * Math.ceil(shown.length / 2) + 12 : 0;
      var bottom = update['margin.b'] || (layout.margin && layout.margin.b) || 80;
      if (below + legendRoom > bottom) {
        height += below + legendRoom - bottom;
        update['margin.b'] = below + legendRoom;
      }
    }
    // long category labels on a y axis (horizontal bars, a dumbbell's rows): wrapped, every
    // trace's categories on that axis
    var axes = {};
    var categorical = function (key) {
      var name = 'yaxis' + (key === 'y' ? '' : key.slice(1)), full = el._fullLayout && el._fullLayout[name];
      return full ? full.type === 'category' : false;
    };
    el.data.forEach(function (tr) {
      var key = tr.yaxis || 'y';
      if (!tr.y || tr.type === 'heatmap' || !(tr.orientation === 'h' || categorical(key))) { return; }
      axes[key] = axes[key] || [];
      Array.from(tr.y).forEach(function (c) {
        if (c !== null && axes[key].indexOf(String(c)) < 0) { axes[key].push(String(c)); }
      });
    });
    Object.keys(axes).forEach(function (key) {
      var cats = axes[key], axis = 'yaxis' + (key === 'y' ? '' : key.slice(1));
      if (!cats.some(function (c) { return c.length > 18; })) { return; }
      update[axis + '.tickmode'] = 'array';
      update[axis + '.tickvals'] = cats;
      update[axis + '.ticktext'] = cats.map(function (c) { return wrap(c, 18); });
    });
    update.height = height;
    // plotly's responsive charts take the height of their box (to_html fixes it): grow it too
    el.style.height = height + 'px';
    if (el.parentElement && el.parentElement.style.height) { el.parentElement.style.height = height + 'px'; }
    var restyle = null;
    el.data.forEach(function (tr, i) {
      if (tr.type === 'sankey' && tr.node && tr.node.customdata) {
        restyle = [{'node.label': [tr.node.customdata]}, [i]];
      }
    });
    el.csiPhoneDone = window.Plotly.relayout(el, update).then(function () {
      return restyle ? window.Plotly.restyle(el, restyle[0], restyle[1]) : null;
    }).then(function () { return fitAxisTitles(el, width); });
    return el.csiPhoneDone;
  }
  /* when every chart is laid out for the phone, <html data-csi-phone="done"> (tests wait for it) */
  function fitCharts() {
    if (window.innerWidth > PHONE || !window.Plotly) { return; }
    var done = [];
    each(document.querySelectorAll('.js-plotly-plot'), function (el) { done.push(fitChart(el)); });
    Promise.all(done).then(function () { document.documentElement.dataset.csiPhone = 'done'; });
  }

  function fit() { fitTables(); fitCharts(); }
  window.csiFitPhone = fit;
  window.addEventListener('load', function () { fit(); setTimeout(fit, 400); });
  var timer;
  window.addEventListener('resize', function () { clearTimeout(timer); timer = setTimeout(fitTables, 150); });
}());
