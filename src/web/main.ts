document.body.textContent = 'maestro'
